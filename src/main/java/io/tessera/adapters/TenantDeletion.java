package io.tessera.adapters;

import io.tessera.cluster.AdapterChanged;
import io.tessera.cluster.ClusterEvents;
import io.tessera.cluster.KeyRevoked;
import io.tessera.persistence.AuditEntry;
import io.tessera.persistence.Db;
import io.tessera.security.ApiKey;
import io.tessera.security.Caller;
import io.tessera.security.Tenant;
import io.tessera.security.Tenants;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;

/**
 * Deleting a tenant takes its adapters with it, so it lives beside the registry: the security room knows tenants
 * and keys, not what the registry holds for them.
 */
@ApplicationScoped
public class TenantDeletion {
    @Inject
    ClusterEvents events;

    /**
     * Deletes a tenant with its keys and adapters (its audit entries stay). Every replica refuses its keys and
     * drops its adapters' resolutions as for a revocation and an adapter deletion; running streams finish; blobs no
     * other adapter uses go with the sweeper. The name may be taken again, by a new, empty tenant.
     */
    public void delete(Caller caller, String name) {
        record Gone(long tenantId, List<String> adapters, List<String> keyHashes) {
        }
        Gone gone = Db.tx(() -> {
            Tenant t = Tenants.existing(name);
            List<String> adapters = RegisteredAdapter.<RegisteredAdapter>list("tenant", t).stream().map(a -> a.name).toList();
            List<String> hashes = ApiKey.<ApiKey>list("tenant", t).stream().map(k -> k.keyHash).toList();
            AuditEntry.record(caller.actor(), t.id, "delete-tenant", name, "adapters=" + adapters.size() + " keys=" + hashes.size());
            // the database cascades to keys, adapters and versions
            Tenant.delete("id", t.id);
            return new Gone(t.id, adapters, hashes);
        });
        gone.keyHashes().forEach(h -> events.publish(new KeyRevoked(h)));
        gone.adapters().forEach(a -> events.publish(new AdapterChanged(gone.tenantId(), a)));
    }
}
