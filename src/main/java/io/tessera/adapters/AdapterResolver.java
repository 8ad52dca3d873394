package io.tessera.adapters;

import com.github.benmanes.caffeine.cache.CacheLoader;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
import io.quarkus.logging.Log;
import io.tessera.cluster.AdapterChanged;
import io.tessera.config.RegistryConfig;
import io.tessera.engine.adapter.Adapter;
import io.tessera.persistence.Db;
import io.tessera.persistence.RegistryException;
import io.tessera.security.ApiKeys;
import io.tessera.security.Tenant;
import io.tessera.security.TenantGoneException;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.context.ManagedExecutor;

/**
 * Which version of a tenant's adapter serves now. Answers come from memory: a change event drops the entry (and
 * prefetches the new version), an entry older than {@code resolve-ttl} is re-read in the background (the last answer
 * serves until the new one is in), and while Postgres is away the last answer stands, so adapters already in use keep
 * serving.
 * <p>
 * Tenants are known by id, never by name: a tenant deleted and created again under the same name has a new id, so
 * nothing cached here for the old one (nor a key of the old one that a replica still trusts) reaches the new one's
 * adapters. A lookup that finds the tenant itself gone refuses the key for good ({@link TenantGoneException}).
 */
@ApplicationScoped
public class AdapterResolver {
    /**
     * A version of an adapter (the active one unless one was asked for by number) as the engine needs it.
     *
     * @param virtualTokens prompt-tuning tokens (0 for other kinds)
     * @param created       when this version was uploaded
     */
    public record Resolved(long tenantId, String name, int version, String sha256, Adapter.Kind kind, int virtualTokens,
                           boolean pinned, Instant created) {
        /** The engine's key: one immutable (adapter, version). Identical bytes are the identical adapter. */
        public String engineKey() {
            return sha256;
        }
    }

    /** Told of every change to an adapter, with what is active now, to prefetch it or let the old version go. */
    public interface Listener {
        void changed(long tenantId, String name, Optional<Resolved> now);
    }

    /** An adapter's active version (version null) or one version of it. */
    private record Key(long tenantId, String name, Integer version) {
    }

    @Inject
    RegistryConfig config;
    @Inject
    Instance<Listener> listeners;
    @Inject
    ApiKeys keys;
    @Inject
    ManagedExecutor background;

    /** Names asked for that do not exist are cached too (as empty): the bound keeps them from growing it without end. */
    private static final int MAX_ENTRIES = 65_536;
    private LoadingCache<Key, Optional<Resolved>> cache;

    @PostConstruct
    void init() {
        cache = Caffeine.newBuilder().maximumSize(MAX_ENTRIES).refreshAfterWrite(config.resolveTtl()).executor(background)
                .build(new CacheLoader<>() {
                    @Override
                    public Optional<Resolved> load(Key key) {
                        return Db.tx(() -> read(key));
                    }

                    @Override
                    public Optional<Resolved> reload(Key key, Optional<Resolved> last) {
                        try {
                            return load(key);
                        } catch (TenantGoneException ex) {
                            forget(key.tenantId());
                            throw ex;
                        } catch (RegistryException ex) {
                            if (ex.problem() == RegistryException.Problem.UNAVAILABLE) {
                                return last;   // Postgres away: keep serving what we knew, ask again after resolve-ttl
                            }
                            throw ex;
                        }
                    }
                });
    }

    /**
     * The active version of {@code name} for the tenant; empty when there is none (or it belongs to another tenant).
     *
     * @throws TenantGoneException when the tenant no longer exists
     */
    public Optional<Resolved> resolve(long tenantId, String name) {
        return resolve(new Key(tenantId, name, null));
    }

    /**
     * Version {@code version} of the tenant's adapter, active or not; empty when there is none.
     *
     * @throws TenantGoneException when the tenant no longer exists
     */
    public Optional<Resolved> resolve(long tenantId, String name, int version) {
        return resolve(new Key(tenantId, name, version));
    }

    private Optional<Resolved> resolve(Key key) {
        long tenantId = key.tenantId();
        try {
            return cache.get(key);
        } catch (TenantGoneException ex) {
            forget(tenantId);   // here, not in the loader: the cache must not be changed from inside its own load
            throw ex;
        }
    }

    /**
     * The tenant's adapters that have an active version.
     *
     * @throws TenantGoneException when the tenant no longer exists
     */
    public List<Resolved> list(long tenantId) {
        try {
            return Db.tx(() -> {
                List<Resolved> found = RegisteredAdapter.<RegisteredAdapter>list(
                        "tenant.id = ?1 and activeVersion is not null order by name", tenantId)
                        .stream().map(a -> read(a, a.activeVersion)).flatMap(Optional::stream).toList();
                if (found.isEmpty()) {
                    requireTenant(tenantId);
                }
                return found;
            });
        } catch (TenantGoneException ex) {
            forget(tenantId);
            throw ex;
        }
    }

    private static Optional<Resolved> read(Key key) {
        Optional<Resolved> found = RegisteredAdapter.byName(key.tenantId(), key.name())
                .flatMap(a -> read(a, key.version() != null ? key.version() : a.activeVersion));
        if (found.isEmpty()) {
            requireTenant(key.tenantId());   // only a miss pays for the check
        }
        return found;
    }

    private static void requireTenant(long tenantId) {
        if (Tenant.count("id", tenantId) == 0) {
            throw new TenantGoneException();
        }
    }

    /** A tenant found gone: its keys are refused from now on and nothing resolved for it is kept. */
    private void forget(long tenantId) {
        keys.forgetTenant(tenantId);
        cache.asMap().keySet().removeIf(k -> k.tenantId() == tenantId);
    }

    private static Optional<Resolved> read(RegisteredAdapter a, Integer version) {
        if (version == null) {
            return Optional.empty();
        }
        return AdapterVersion.of(a, version).map(v -> new Resolved(a.tenant.id, a.name, v.version, v.blobSha256,
                a.kind, v.virtualTokens == null ? 0 : v.virtualTokens, a.pinned, v.createdAt));
    }

    /** A change here or on another replica: forget, then look again and prefetch what is active now. */
    void onChange(@Observes AdapterChanged change) {
        // every version asked for by number too: a deleted adapter takes its versions with it
        cache.asMap().keySet().removeIf(k -> k.tenantId() == change.tenantId() && k.name().equals(change.name()));
        background.execute(() -> {
            try {
                Optional<Resolved> now = resolve(change.tenantId(), change.name());
                listeners.forEach(l -> l.changed(change.tenantId(), change.name(), now));
            } catch (TenantGoneException ex) {
                // the tenant went with its adapters: each is gone here too
                listeners.forEach(l -> l.changed(change.tenantId(), change.name(), Optional.empty()));
            } catch (RuntimeException ex) {
                Log.warnf("prefetch of %s skipped: %s", change.name(), ex.getMessage());
            }
        });
    }
}
