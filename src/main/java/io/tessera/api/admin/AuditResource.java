package io.tessera.api.admin;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.tessera.adapters.AdapterRegistry;
import io.tessera.adapters.AuditEntry;
import io.tessera.adapters.Db;
import io.tessera.security.Tenant;
import io.tessera.api.CurrentCaller;
import jakarta.inject.Inject;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The audit log, newest first: a tenant key sees its tenant's entries, the admin key all or one tenant's. */
@Tag(name = "Admin")
@Path("/v1/admin/audit")
public class AuditResource {
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record AuditView(Instant at, String actor, String action, String target, String detail) {
    }

    @Inject
    CurrentCaller caller;

    @GET
    public Map<String, List<AuditView>> list(@QueryParam("tenant") String tenant, @QueryParam("limit") @DefaultValue("100") int limit) {
        return Map.of("data", Db.tx(() -> {
            var q = caller.get().isAdmin() && tenant == null
                    ? AuditEntry.<AuditEntry>find("order by id desc")
                    : AuditEntry.<AuditEntry>find("tenantId = ?1 order by id desc", tenantOf(tenant).id);
            return q.page(0, Math.max(1, Math.min(limit, 1000))).list().stream()
                    .map(e -> new AuditView(e.at, e.actor, e.action, e.target, e.detail)).toList();
        }));
    }

    private Tenant tenantOf(String tenant) {
        return AdapterRegistry.tenant(caller.get(), tenant);
    }
}
