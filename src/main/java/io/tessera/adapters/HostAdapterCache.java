package io.tessera.adapters;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tessera.config.RegistryConfig;
import io.tessera.engine.adapter.Adapter;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The host-memory tier: validated adapters (float arrays) by blob SHA-256, under a byte budget that pinned ones
 * count against but are never evicted for; unpinned ones are evicted by Caffeine's policy (least recently and least
 * frequently used). Reinstalling an adapter the engine evicted then costs no download, unpacking or validation.
 */
@ApplicationScoped
public class HostAdapterCache {
    private final Set<String> pinned = ConcurrentHashMap.newKeySet();
    private long budget;
    private Cache<String, Adapter> entries;
    private Counter hits;
    private Counter misses;

    HostAdapterCache() {
        // for CDI's client proxy
    }

    @Inject
    HostAdapterCache(RegistryConfig config, MeterRegistry meters) {
        this(config.hostCacheBytes(), meters);
    }

    HostAdapterCache(long budget, MeterRegistry meters) {
        this.budget = budget;
        hits = counter(meters, "tessera.adapters.host.hits", "Adapter loads served from the host-memory tier");
        misses = counter(meters, "tessera.adapters.host.misses", "Adapter loads that missed the host-memory tier");
        Counter evictions = counter(meters, "tessera.adapters.host.evictions", "Adapters evicted from the host-memory tier");
        entries = Caffeine.newBuilder()
                .maximumWeight(budget)
                // a pinned adapter weighs nothing, so it is never chosen to make room (pin() re-weighs it); its
                // bytes come off the maximum instead (rebudget())
                .weigher((String sha256, Adapter a) -> pinned.contains(sha256) ? 0 : (int) Math.min(a.bytes(), Integer.MAX_VALUE))
                .evictionListener((String sha256, Adapter a, RemovalCause cause) -> evictions.increment())
                // evictions happen in the writing thread: the budget holds as soon as put() returns
                .executor(Runnable::run)
                .build();
        Gauge.builder("tessera.adapters.host.bytes", this, HostAdapterCache::bytes)
                .description("Bytes of adapter weights in the host-memory tier").register(meters);
        Gauge.builder("tessera.adapters.host.resident", this, HostAdapterCache::size)
                .description("Adapters in the host-memory tier").register(meters);
    }

    private static Counter counter(MeterRegistry meters, String name, String help) {
        return Counter.builder(name).description(help).register(meters);
    }

    /**
     * The adapter for {@code sha256}, loading it with {@code load} when absent. Concurrent misses on one adapter
     * load it once: the others wait for that load.
     */
    public Adapter get(String sha256, Supplier<Adapter> load) {
        Adapter cached = entries.getIfPresent(sha256);
        if (cached != null) {
            hits.increment();
            return cached;
        }
        Adapter loaded = entries.get(sha256, k -> {
            misses.increment();
            return load.get();
        });
        rebudget(sha256);
        return loaded;
    }

    public void put(String sha256, Adapter adapter) {
        entries.put(sha256, adapter);
        rebudget(sha256);
    }

    public boolean contains(String sha256) {
        return entries.asMap().containsKey(sha256);
    }

    public void pin(String sha256, boolean pin) {
        if (pin ? pinned.add(sha256) : pinned.remove(sha256)) {
            entries.asMap().computeIfPresent(sha256, (k, a) -> a);   // re-weighs it: 0 while pinned
            rebudget(null);
        }
    }

    public void remove(String sha256) {
        boolean wasPinned = pinned.remove(sha256);
        entries.invalidate(sha256);
        if (wasPinned) {
            rebudget(null);
        }
    }

    /** The maximum for the unpinned: the budget less what pinned adapters hold ({@code changed}: when it is pinned). */
    private synchronized void rebudget(String changed) {
        if (changed != null && !pinned.contains(changed)) {
            return;
        }
        long held = 0;
        for (String sha256 : pinned) {
            Adapter a = entries.policy().getIfPresentQuietly(sha256);
            held += a == null ? 0 : a.bytes();
        }
        long left = Math.max(0, budget - held);
        entries.policy().eviction().orElseThrow().setMaximum(left);
    }

    /** Bytes held, pinned adapters included. */
    public long bytes() {
        return entries.asMap().values().stream().mapToLong(Adapter::bytes).sum();
    }

    public int size() {
        return entries.asMap().size();
    }
}
