package io.tessera.security;

import static io.tessera.adapters.RegistryException.Problem.CONFLICT;
import static io.tessera.adapters.RegistryException.Problem.FORBIDDEN;
import static io.tessera.adapters.RegistryException.Problem.INVALID;
import static io.tessera.adapters.RegistryException.Problem.NOT_FOUND;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.tessera.adapters.AdapterRegistry;
import io.tessera.adapters.AuditEntry;
import io.tessera.adapters.Db;
import io.tessera.adapters.RegistryException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.List;

/** Tenants and their keys; only the operator creates or lists them. */
@ApplicationScoped
public class Tenants {
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record TenantView(String name, Integer requestsPerMinute, Integer tokensPerMinute, Instant createdAt) {
        static TenantView of(Tenant t) {
            return new TenantView(t.name, t.requestsPerMinute, t.tokensPerMinute, t.createdAt);
        }
    }

    /** A new key, shown this once: only its hash is stored. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record IssuedKey(String tenant, String apiKey) {
    }

    @Inject
    ApiKeys keys;

    public IssuedKey create(Caller caller, String name, Integer requestsPerMinute, Integer tokensPerMinute) {
        admin(caller);
        AdapterRegistry.checkName("tenant name", name);
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
            return new IssuedKey(name, keys.issue(t));
        });
    }

    /** Another key for a tenant (rotation: issue, switch clients over, revoke the old ones). */
    public IssuedKey issueKey(Caller caller, String name) {
        admin(caller);
        return Db.tx(() -> {
            Tenant t = Tenant.byName(name).orElseThrow(() -> new RegistryException(NOT_FOUND, "tenant '" + name + "' not found"));
            AuditEntry.record(caller.actor(), t.id, "issue-key", name, null);
            return new IssuedKey(name, keys.issue(t));
        });
    }

    public List<TenantView> list(Caller caller) {
        admin(caller);
        return Db.tx(() -> Tenant.<Tenant>listAll().stream()
                .sorted(java.util.Comparator.comparing((Tenant t) -> t.name)).map(TenantView::of).toList());
    }

    static void admin(Caller caller) {
        if (!caller.isAdmin()) {
            throw new RegistryException(FORBIDDEN, "this call needs the admin key");
        }
    }
}
