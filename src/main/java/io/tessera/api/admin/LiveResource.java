package io.tessera.api.admin;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.tessera.api.ErrorResponse;
import io.tessera.config.TesseraConfig;
import io.tessera.engine.adapter.AdapterTable;
import io.tessera.scheduler.Scheduler;
import io.tessera.security.Caller;
import io.tessera.service.ServiceMetrics;
import io.tessera.service.ServingState;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** This replica's load right now, service-wide (nothing per tenant): what the metrics' gauges read. */
@Tag(name = "Admin")
@Path("/v1/admin/live")
@RolesAllowed({Caller.ADMIN_ROLE, Caller.TENANT_ROLE})
public class LiveResource {
    /**
     * @param tokensPerSecond      tokens generated per second over the last 10 seconds
     * @param queueDepth           requests waiting for a place in the batch
     * @param running              sequences running
     * @param residentAdapters     adapters installed in the engine
     * @param residentAdapterBytes the engine bytes they occupy
     * @param adapterBudgetBytes   the residency budget (tessera.adapters.budget-bytes)
     */
    @Schema(name = "LiveStats", description = "This replica's load: tokens_per_second over the last 10 s, sequences "
            + "queued and running, adapters resident in the engine, their bytes and the budget for them")
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Live(double tokensPerSecond, int queueDepth, int running, int residentAdapters, long residentAdapterBytes,
                       long adapterBudgetBytes) {
    }

    @Inject
    ServingState state;
    @Inject
    ServiceMetrics metrics;
    @Inject
    TesseraConfig config;

    @GET
    @Operation(operationId = "getLive", summary = "This replica's load now",
            description = "Generated tokens per second (last 10 s), queue and running sequences, adapters resident in "
                    + "the engine against their budget. Each replica answers for itself.")
    @APIResponse(responseCode = "200", description = "OK",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Live.class)))
    @APIResponse(responseCode = "503", description = "the model is still loading, or the server is shutting down",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ErrorResponse.class)))
    public Live get() {
        Scheduler s = state.scheduler();
        AdapterTable.Stats adapters = s.host().adapters().stats();
        return new Live(metrics.tokensPerSecond(), s.queued(), s.running(), adapters.resident(), adapters.residentBytes(),
                config.adapters().budgetBytes());
    }
}
