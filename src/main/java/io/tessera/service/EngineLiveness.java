package io.tessera.service;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * Down when the engine loop is broken (several steps in a row failed, or its thread died) or the model failed to
 * load: the orchestrator then restarts the process. A model still loading is a readiness matter, not this one.
 */
@Liveness
@ApplicationScoped
public class EngineLiveness implements HealthCheck {
    @Inject
    ServingState state;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("engine").status(state.engineHealthy()).build();
    }
}
