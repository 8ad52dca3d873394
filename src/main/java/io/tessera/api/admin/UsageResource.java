package io.tessera.api.admin;

import io.quarkus.security.identity.SecurityIdentity;
import io.tessera.adapters.AdapterRegistry;
import io.tessera.cluster.UsageCounters.Usage;
import io.tessera.cluster.UsageCounters;
import io.tessera.persistence.Db;
import io.tessera.security.Caller;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Usage of one tenant by model: the key's tenant, or for the admin key the one named by {@code tenant}. */
@Tag(name = "Admin")
@Path("/v1/admin/usage")
@RolesAllowed({Caller.ADMIN_ROLE, Caller.TENANT_ROLE})
public class UsageResource {
    @Inject
    UsageCounters usage;
    @Inject
    SecurityIdentity identity;

    @GET
    @Operation(operationId = "getUsage")
    public Map<String, Object> get(@QueryParam("tenant") String tenant) {
        Caller caller = Caller.of(identity);
        long id = Db.tx(() -> AdapterRegistry.tenant(caller, tenant).id);
        return Map.of("tenant", tenant == null ? caller.tenantName() : tenant, "data", (Map<String, Usage>) usage.of(id));
    }
}
