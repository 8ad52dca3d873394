package io.tessera.service;

import io.tessera.adapters.AdapterFiles;
import io.tessera.adapters.AdapterResolver;
import io.tessera.adapters.AdapterResolver.Resolved;
import io.tessera.engine.adapter.AdapterTable;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps the engine's adapter table in step with the registry on this replica: a newly active version is loaded
 * before the first request asks (pinned if the adapter is), and the version it replaced is dropped once no running
 * sequence holds it (requests keep the version they started with).
 */
@ApplicationScoped
public class EngineTier implements AdapterResolver.Listener {
    @Inject
    ServingState state;
    @Inject
    AdapterFiles files;

    /** tenant id/name -> engine key of its active version, as last seen here. */
    private final Map<String, String> active = new ConcurrentHashMap<>();

    @Override
    public void changed(long tenantId, String name, Optional<Resolved> now) {
        if (state.phase() != ServingState.Phase.READY) {
            return;   // not loaded yet: it loads on first use
        }
        AdapterTable table = state.host().adapters();
        String k = tenantId + "/" + name;
        String before = now.isPresent() ? active.put(k, now.get().engineKey()) : active.remove(k);
        if (before != null && !now.map(Resolved::engineKey).orElse("").equals(before) && !active.containsValue(before)) {
            table.invalidate(before);
        }
        now.ifPresent(r -> {
            if (r.pinned()) {
                table.pin(r.engineKey(), files.dir(r.sha256()));
            } else {
                table.unpin(r.engineKey());
                table.acquire(r.engineKey(), files.dir(r.sha256()));
            }
        });
    }
}
