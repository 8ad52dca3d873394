package io.tessera.service;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready once the model is loaded, and no longer once draining for shutdown. */
@Readiness
@ApplicationScoped
public class ModelReadiness implements HealthCheck {
    @Inject
    ServingState state;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("model")
                .status(state.phase() == ServingState.Phase.READY)
                .withData("phase", state.phase().name().toLowerCase(java.util.Locale.ROOT))
                .build();
    }
}
