package io.tessera.service;

import io.tessera.security.ApiKeys;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The one block a person starting the service reads: where it listens, and the keys made by this start (the demo
 * tenant's on the first start, the bootstrap admin key while none is configured), each shown nowhere else.
 */
@ApplicationScoped
public class ReadyBanner {
    private static final Logger LOG = Logger.getLogger(ReadyBanner.class);

    @ConfigProperty(name = "quarkus.http.port")
    int port;

    @ConfigProperty(name = "quarkus.management.port")
    int managementPort;

    @Inject
    ApiKeys keys;

    void print(String model, Optional<String> demoKey) {
        StringBuilder b = new StringBuilder("Tessera is ready: http://localhost:").append(port).append(" serves ").append(model)
                .append(" (health and metrics: http://localhost:").append(managementPort).append("/q/health, /q/metrics)")
                .append("\n  web console: http://localhost:").append(port).append("/console");
        demoKey.ifPresent(k -> b.append("\n  demo tenant's API key (shown this once; README.md says how to issue another): ")
                .append(k));
        keys.bootstrapAdminKey().ifPresent(k -> b.append("\n  admin key for this run (set tessera.security.admin-key to keep one): ")
                .append(k));
        LOG.info(b);
    }
}
