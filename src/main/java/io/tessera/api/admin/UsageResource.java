package io.tessera.api.admin;

import io.quarkus.security.identity.SecurityIdentity;
import io.tessera.adapters.AdapterRegistry;
import io.tessera.cluster.UsageCounters.Usage;
import io.tessera.cluster.UsageCounters;
import io.tessera.persistence.Db;
import io.tessera.scheduler.InvalidRequestException;
import io.tessera.security.Caller;
import io.tessera.usage.UsageSeries;
import io.tessera.usage.UsageSeries.Range;
import io.tessera.usage.UsageSeries.Series;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import java.time.Instant;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Usage by model: totals of one tenant (Redis, as the rate limits count them), and over time (Postgres, per minute
 * and per hour). A tenant key sees its own tenant; the admin key names one, or for the series may name none (all
 * tenants summed).
 */
@Tag(name = "Admin")
@Path("/v1/admin/usage")
@RolesAllowed({Caller.ADMIN_ROLE, Caller.TENANT_ROLE})
public class UsageResource {
    @Inject
    UsageCounters usage;
    @Inject
    UsageSeries series;
    @Inject
    SecurityIdentity identity;

    @GET
    @Operation(operationId = "getUsage")
    public Map<String, Object> get(@QueryParam("tenant") String tenant) {
        Caller caller = Caller.of(identity);
        long id = Db.tx(() -> AdapterRegistry.tenant(caller, tenant).id);
        return Map.of("tenant", tenant == null ? caller.tenantName() : tenant, "data", (Map<String, Usage>) usage.of(id));
    }

    @GET
    @Path("/series")
    @Operation(operationId = "getUsageSeries", summary = "Usage over time by model",
            description = "range=hour: the last 60 minutes by minute; range=day: the last 24 hours by hour (UTC). Points "
                    + "are the non-empty buckets only (t: the bucket's start, epoch seconds), series sorted by model. "
                    + "A tenant key sees its own tenant; the admin key names one with tenant, or gets all tenants summed "
                    + "without it. Written every tessera.usage.flush-interval, so the newest seconds may be missing.")
    public Series series(
            @QueryParam("range") @Parameter(required = true, schema = @Schema(type = SchemaType.STRING, enumeration = {"hour", "day"}))
            String range,
            @QueryParam("tenant") String tenant) {
        Range r = Range.of(range == null ? "" : range)
                .orElseThrow(() -> new InvalidRequestException("range", "range must be hour or day"));
        Caller caller = Caller.of(identity);
        Long id = caller.isAdmin() && tenant == null ? null : Db.tx(() -> AdapterRegistry.tenant(caller, tenant).id);
        return series.of(r, id, Instant.now());
    }
}
