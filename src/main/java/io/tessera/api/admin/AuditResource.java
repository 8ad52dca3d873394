package io.tessera.api.admin;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.quarkus.security.identity.SecurityIdentity;
import io.tessera.adapters.AdapterRegistry;
import io.tessera.persistence.AuditEntry;
import io.tessera.persistence.Db;
import io.tessera.security.Caller;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The audit log, newest first: a tenant key sees its tenant's entries, the admin key all or one tenant's. */
@Tag(name = "Admin")
@Path("/v1/admin/audit")
@RolesAllowed({Caller.ADMIN_ROLE, Caller.TENANT_ROLE})
public class AuditResource {
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record AuditView(Instant at, String actor, String action, String target, String detail) {
    }

    @Inject
    SecurityIdentity identity;

    @GET
    @Operation(operationId = "listAuditEntries")
    public Map<String, List<AuditView>> list(@QueryParam("tenant") String tenant, @QueryParam("limit") @DefaultValue("100") int limit) {
        Caller caller = Caller.of(identity);
        return Map.of("data", Db.tx(() -> {
            var q = caller.isAdmin() && tenant == null
                    ? AuditEntry.<AuditEntry>find("order by id desc")
                    : AuditEntry.<AuditEntry>find("tenantId = ?1 order by id desc", AdapterRegistry.tenant(caller, tenant).id);
            return q.page(0, Math.max(1, Math.min(limit, 1000))).list().stream()
                    .map(e -> new AuditView(e.at, e.actor, e.action, e.target, e.detail)).toList();
        }));
    }
}
