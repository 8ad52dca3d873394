package io.tessera.adapters;

import io.quarkus.logging.Log;
import io.tessera.cluster.AdapterChanged;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Which version of a tenant's adapter serves now. Answers come from memory: a change event drops the entry (and
 * prefetches the new version), an entry older than {@code resolve-ttl} is re-read, and while Postgres is away the
 * last answer stands, so adapters already in use keep serving.
 */
@ApplicationScoped
public class AdapterResolver {
    /**
     * The active version of an adapter as the engine needs it.
     *
     * @param virtualTokens prompt-tuning tokens (0 for other kinds)
     */
    public record Resolved(String tenant, String name, int version, String sha256, String kind, int virtualTokens,
                           boolean pinned) {
        /** The engine's key: one immutable (adapter, version). Identical bytes are the identical adapter. */
        public String engineKey() {
            return sha256;
        }
    }

    /** Told of every change to an adapter, with what is active now, to prefetch it or let the old version go. */
    public interface Listener {
        void changed(String tenant, String name, Optional<Resolved> now);
    }

    private record Entry(Optional<Resolved> value, long at) {
    }

    @Inject
    RegistryConfig config;
    @Inject
    Instance<Listener> listeners;

    private final Map<String, Entry> cache = new ConcurrentHashMap<>();
    private final ExecutorService background = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tessera-adapter-prefetch");
        t.setDaemon(true);
        return t;
    });

    private static String key(String tenant, String name) {
        return tenant + "/" + name;
    }

    /** The active version of {@code name} for the tenant; empty when there is none (or it belongs to another tenant). */
    public Optional<Resolved> resolve(String tenant, String name) {
        String key = key(tenant, name);
        Entry e = cache.get(key);
        long now = System.nanoTime();
        if (e != null && now - e.at < config.resolveTtl().toNanos()) {
            return e.value;
        }
        try {
            Optional<Resolved> fresh = Db.tx(() -> read(tenant, name));
            cache.put(key, new Entry(fresh, now));
            return fresh;
        } catch (RegistryException ex) {
            if (e != null && ex.problem() == RegistryException.Problem.UNAVAILABLE) {
                return e.value;   // Postgres away: keep serving what we knew
            }
            throw ex;
        }
    }

    /** The tenant's adapters that have an active version. */
    public List<Resolved> list(String tenant) {
        return Db.tx(() -> RegisteredAdapter.<RegisteredAdapter>list("tenant.name = ?1 and activeVersion is not null order by name", tenant)
                .stream().map(a -> read(a)).flatMap(Optional::stream).toList());
    }

    private static Optional<Resolved> read(String tenant, String name) {
        return RegisteredAdapter.<RegisteredAdapter>find("tenant.name = ?1 and name = ?2", tenant, name).firstResultOptional()
                .flatMap(AdapterResolver::read);
    }

    private static Optional<Resolved> read(RegisteredAdapter a) {
        if (a.activeVersion == null) {
            return Optional.empty();
        }
        return AdapterVersion.of(a, a.activeVersion).map(v -> new Resolved(a.tenant.name, a.name, v.version, v.blobSha256,
                a.kind, "PROMPT_TUNING".equals(a.kind) && v.rank != null ? v.rank : 0, a.pinned));
    }

    /** A change here or on another replica: forget, then look again and prefetch what is active now. */
    void onChange(@Observes AdapterChanged change) {
        cache.remove(key(change.tenant(), change.name()));
        background.execute(() -> {
            try {
                Optional<Resolved> now = resolve(change.tenant(), change.name());
                listeners.forEach(l -> l.changed(change.tenant(), change.name(), now));
            } catch (RuntimeException ex) {
                Log.warnf("prefetch of %s skipped: %s", change.name(), ex.getMessage());
            }
        });
    }
}
