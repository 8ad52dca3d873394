package io.tessera.api.admin;

import io.tessera.adapters.AdapterRegistry;
import io.tessera.adapters.Db;
import io.tessera.cluster.UsageCounters;
import io.tessera.cluster.UsageCounters.Usage;
import io.tessera.api.CurrentCaller;
import jakarta.inject.Inject;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import java.util.Map;

/** Usage of one tenant by model: the key's tenant, or for the admin key the one named by {@code tenant}. */
@Tag(name = "Admin")
@Path("/v1/admin/usage")
public class UsageResource {
    @Inject
    UsageCounters usage;
    @Inject
    CurrentCaller caller;

    @GET
    public Map<String, Object> get(@QueryParam("tenant") String tenant) {
        long id = Db.tx(() -> AdapterRegistry.tenant(caller.get(), tenant).id);
        return Map.of("tenant", tenant == null ? caller.get().tenantName() : tenant, "data", (Map<String, Usage>) usage.of(id));
    }
}
