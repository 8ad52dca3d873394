package io.tessera.security;

import static io.tessera.persistence.RegistryException.Problem.CONFLICT;
import static io.tessera.persistence.RegistryException.Problem.INVALID;
import static io.tessera.persistence.RegistryException.Problem.NOT_FOUND;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.tessera.cluster.ClusterEvents;
import io.tessera.cluster.KeyRevoked;
import io.tessera.persistence.AuditEntry;
import io.tessera.persistence.Db;
import io.tessera.persistence.Names;
import io.tessera.persistence.RegistryException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.List;

/** Tenants and their keys; only the operator creates or lists them (the resource's role says so). */
@ApplicationScoped
public class Tenants {
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record TenantView(String name, Integer requestsPerMinute, Integer tokensPerMinute, Instant createdAt) {
        static TenantView of(Tenant t) {
            return new TenantView(t.name, t.requestsPerMinute, t.tokensPerMinute, t.createdAt);
        }
    }

    /** A new key, shown this once: only its hash is stored. {@code key_id} names it for listing and revoking. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record IssuedKey(String tenant, String apiKey, long keyId, String prefix) {
        static IssuedKey of(String tenant, ApiKeys.NewKey k) {
            return new IssuedKey(tenant, k.key(), k.id(), k.prefix());
        }
    }

    /** A key as listed: never the key itself. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record KeyView(long id, String prefix, Instant createdAt, Instant revokedAt) {
        static KeyView of(ApiKey k) {
            return new KeyView(k.id, k.prefix, k.createdAt, k.revokedAt);
        }
    }

    @Inject
    ApiKeys keys;
    @Inject
    ClusterEvents events;

    public IssuedKey create(Caller caller, String name, Integer requestsPerMinute, Integer tokensPerMinute) {
        Names.check("tenant name", name);
        if (requestsPerMinute != null && requestsPerMinute < 0 || tokensPerMinute != null && tokensPerMinute < 0) {
            throw new RegistryException(INVALID, "rate limits must be >= 0 (0: unlimited)");
        }
        return Db.tx(() -> {
            if (Tenant.byName(name).isPresent()) {
                throw new RegistryException(CONFLICT, "tenant '" + name + "' already exists");
            }
            Tenant t = new Tenant();
            t.name = name;
            t.requestsPerMinute = requestsPerMinute;
            t.tokensPerMinute = tokensPerMinute;
            t.persist();
            AuditEntry.record(caller.actor(), t.id, "create-tenant", name, null);
            return IssuedKey.of(name, keys.issue(t));
        });
    }

    /** Another key for a tenant (rotation: issue, switch clients over, revoke the old ones). */
    public IssuedKey issueKey(Caller caller, String name) {
        return Db.tx(() -> {
            Tenant t = existing(name);
            IssuedKey issued = IssuedKey.of(name, keys.issue(t));
            AuditEntry.record(caller.actor(), t.id, "issue-key", name, issued.prefix());
            return issued;
        });
    }

    /** The tenant's keys, oldest first, revoked ones included. */
    public List<KeyView> keys(String name) {
        return Db.tx(() -> ApiKey.<ApiKey>list("tenant = ?1 order by id", existing(name)).stream().map(KeyView::of).toList());
    }

    /**
     * Revokes one of the tenant's keys: refused from now on by this replica, by the others as soon as they hear
     * (Redis) and at the latest after {@code tessera.security.key-cache-ttl}. Revoking it again changes nothing.
     */
    public void revokeKey(Caller caller, String name, long id) {
        String hash = Db.tx(() -> {
            Tenant t = existing(name);
            ApiKey k = ApiKey.<ApiKey>find("id = ?1 and tenant = ?2", id, t).firstResultOptional()
                    .orElseThrow(() -> new RegistryException(NOT_FOUND, "tenant '" + name + "' has no key " + id));
            if (k.revokedAt == null) {
                k.revokedAt = Instant.now();
                AuditEntry.record(caller.actor(), t.id, "revoke-key", name, k.prefix);
            }
            return k.keyHash;
        });
        events.publish(new KeyRevoked(hash));
    }

    /** The tenant of that name, else 404. */
    public static Tenant existing(String name) {
        return Tenant.byName(name).orElseThrow(() -> new RegistryException(NOT_FOUND, "tenant '" + name + "' not found"));
    }

    public List<TenantView> list() {
        return Db.tx(() -> Tenant.<Tenant>listAll().stream()
                .sorted(java.util.Comparator.comparing((Tenant t) -> t.name)).map(TenantView::of).toList());
    }
}
