package io.tessera.adapters;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tessera.engine.adapter.Adapter;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The host-memory tier: validated adapters (float arrays) by blob SHA-256, under a byte budget with LRU eviction
 * of unpinned ones. Reinstalling an adapter the engine evicted then costs no download, unpacking or validation.
 */
@ApplicationScoped
public class HostAdapterCache {
    private final LinkedHashMap<String, Adapter> entries = new LinkedHashMap<>(16, 0.75f, true);
    private final Set<String> pinned = new HashSet<>();
    private long bytes;
    private long budget;
    private Counter hits;
    private Counter misses;
    private Counter evictions;

    @Inject
    void init(RegistryConfig config, MeterRegistry meters) {
        budget = config.hostCacheBytes();
        hits = meters.counter("tessera.adapters.host.hits");
        misses = meters.counter("tessera.adapters.host.misses");
        evictions = meters.counter("tessera.adapters.host.evictions");
        Gauge.builder("tessera.adapters.host.bytes", this, HostAdapterCache::bytes).register(meters);
        Gauge.builder("tessera.adapters.host.resident", this, HostAdapterCache::size).register(meters);
    }

    /** The adapter for {@code sha256}, loading it with {@code load} (outside the lock) when absent. */
    public Adapter get(String sha256, Supplier<Adapter> load) {
        synchronized (this) {
            Adapter a = entries.get(sha256);
            if (a != null) {
                hits.increment();
                return a;
            }
        }
        misses.increment();
        Adapter a = load.get();
        put(sha256, a);
        return a;
    }

    public synchronized void put(String sha256, Adapter adapter) {
        Adapter old = entries.put(sha256, adapter);
        bytes += adapter.bytes() - (old == null ? 0 : old.bytes());
        for (Iterator<Map.Entry<String, Adapter>> it = entries.entrySet().iterator(); it.hasNext() && bytes > budget; ) {
            Map.Entry<String, Adapter> e = it.next();
            if (!pinned.contains(e.getKey()) && !e.getKey().equals(sha256)) {
                it.remove();
                bytes -= e.getValue().bytes();
                evictions.increment();
            }
        }
    }

    public synchronized boolean contains(String sha256) {
        return entries.containsKey(sha256);
    }

    public synchronized void pin(String sha256, boolean pin) {
        if (pin) {
            pinned.add(sha256);
        } else {
            pinned.remove(sha256);
        }
    }

    public synchronized void remove(String sha256) {
        pinned.remove(sha256);
        Adapter a = entries.remove(sha256);
        if (a != null) {
            bytes -= a.bytes();
        }
    }

    public synchronized long bytes() {
        return bytes;
    }

    public synchronized int size() {
        return entries.size();
    }
}
