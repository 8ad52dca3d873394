package io.tessera.cluster;

import io.tessera.config.ClusterConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Whether this replica has Redis (quarkus.redis.hosts set) and how long to wait for it. */
@ApplicationScoped
public class ClusterRedis {
    @ConfigProperty(name = "quarkus.redis.hosts")
    Optional<String> hosts;
    @Inject
    ClusterConfig config;

    public boolean configured() {
        return hosts.filter(h -> !h.isBlank()).isPresent();
    }

    public Duration timeout() {
        return config.redisTimeout();
    }
}
