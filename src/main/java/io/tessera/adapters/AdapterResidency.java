package io.tessera.adapters;

import io.tessera.adapters.AdapterResolver.Resolved;
import io.tessera.engine.adapter.Adapter;
import io.tessera.engine.adapter.AdapterLoader;
import io.tessera.engine.adapter.AdapterTable;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where adapter versions live below the registry: unpacked on disk ({@link AdapterFiles}), validated in host memory
 * ({@link HostAdapterCache}). A newly active version is prefetched into both; pins follow the active version.
 */
@ApplicationScoped
public class AdapterResidency implements AdapterResolver.Listener {
    @Inject
    AdapterFiles files;
    @Inject
    HostAdapterCache host;
    @Inject
    BaseModel base;

    /** tenant id/name -> the version pinned for it here, so a pin moves when another version becomes active. */
    private final Map<String, String> pinned = new ConcurrentHashMap<>();

    /** The validated adapter of a version, from host memory or (on a miss) from its blob. */
    public Adapter load(String sha256, Path dir) {
        return host.get(sha256, () -> new AdapterLoader(base.model()).load(dir));
    }

    /**
     * The highest tier holding the version whose blob is {@code sha256}: {@code engine} (resident in {@code engine}, the
     * engine's table keyed by blob, absent before the model is loaded), {@code host} (validated in host memory) or
     * {@code store}.
     */
    public String tier(Optional<AdapterTable> engine, String sha256) {
        return engine.filter(t -> t.isResident(sha256)).isPresent() ? "engine" : host.contains(sha256) ? "host" : "store";
    }

    @Override
    public void changed(long tenantId, String name, Optional<Resolved> now) {
        String key = tenantId + "/" + name;
        String before = now.filter(Resolved::pinned).isPresent() ? pinned.put(key, now.get().sha256()) : pinned.remove(key);
        if (before != null && now.map(r -> !r.pinned() || !r.sha256().equals(before)).orElse(true)) {
            host.pin(before, false);
        }
        now.ifPresent(r -> {
            host.pin(r.sha256(), r.pinned());
            load(r.sha256(), files.dir(r.sha256()));
        });
    }
}
