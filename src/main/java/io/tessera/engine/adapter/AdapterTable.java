package io.tessera.engine.adapter;

import io.tessera.engine.Engine;
import io.tessera.engine.ResidentAdapter;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * Residency of adapters in the engine: a byte budget (not a count), LRU eviction of unpinned adapters no
 * sequence holds, pinning, and loading off the engine thread (read + validate on {@code loader}, then a
 * short install on the engine thread between steps), so running sequences never wait on I/O.
 *
 * <p>Adapters are known by a key naming one immutable (adapter, version); each key gets an internal id once,
 * kept across evictions and reloads and never given to another key.
 */
public final class AdapterTable {
    private static final System.Logger LOG = System.getLogger(AdapterTable.class.getName());
    /** Adapters installed between two engine steps at most: what one step may wait for. */
    public static final int INSTALLS_PER_ROUND = 2;

    /** Where a key's adapter comes from when it is not resident: by default the loader reading its directory. */
    @FunctionalInterface
    public interface Source {
        Adapter load(String key, Path dir);
    }

    /**
     * Counters for metrics.
     *
     * @param hits           acquisitions that found the adapter resident
     * @param misses         acquisitions that did not (they wait for a load, their own or one under way)
     * @param residentBytes  engine bytes the resident adapters occupy (their stores' share, see {@link ResidentAdapter#bytes()})
     * @param overBudgetBytes how far pinned or held adapters, which are never evicted, keep the residents above the budget
     */
    public record Stats(long loads, long hits, long misses, long evictions, long residentBytes, int resident, long failures,
                        long overBudgetBytes) {
    }

    private final Engine engine;
    private final long budgetBytes;
    private final Executor loader;
    private final Source source;
    private final AtomicLong nextId = new AtomicLong(1);
    private final Map<String, Long> ids = new ConcurrentHashMap<>();
    // engine thread only, access-ordered for LRU
    private final LinkedHashMap<String, ResidentAdapter> resident = new LinkedHashMap<>(16, 0.75f, true);
    /** The keys of {@link #resident}, readable from any thread (a request reports which tier served it). */
    private final Set<String> residentKeys = ConcurrentHashMap.newKeySet();
    private final Map<String, CompletableFuture<ResidentAdapter>> loading = new ConcurrentHashMap<>();
    private final Map<String, Boolean> pinned = new ConcurrentHashMap<>();
    private final Queue<Loaded> loaded = new ConcurrentLinkedQueue<>();
    /** Whether an {@link #installLoaded} is queued on the engine: one at a time, so a round installs a bounded few. */
    private final AtomicBoolean installQueued = new AtomicBoolean();
    private long residentBytes;
    private volatile Stats stats = new Stats(0, 0, 0, 0, 0, 0, 0, 0);
    /** Told how long each load took, from its first acquisition to its install (nanoseconds). */
    private volatile LongConsumer loadTimes = nanos -> { };
    private long loads;
    private long hits;
    private long misses;
    private long evictions;
    private long failures;

    public AdapterTable(Engine engine, long budgetBytes, Executor loader) {
        this(engine, budgetBytes, loader, null);
    }

    /** With a source in front of the directory loader (a host-memory tier), or null for the loader alone. */
    public AdapterTable(Engine engine, long budgetBytes, Executor loader, Source source) {
        this.engine = engine;
        this.budgetBytes = budgetBytes;
        this.loader = loader;
        AdapterLoader files = new AdapterLoader(engine.model());
        this.source = source != null ? source : (key, dir) -> files.load(dir);
        engine.submit(() -> engine.adapters().reserve(budgetBytes));
    }

    /** The internal id of a key: assigned on first sight, stable for the life of this table. */
    public long idOf(String key) {
        return ids.computeIfAbsent(key, k -> nextId.getAndIncrement());
    }

    /**
     * The installed adapter for {@code key}, loading it from {@code dir} if needed. Completes on the engine thread
     * (pass the result to {@link Engine#open} there). Concurrent requests for the same key share one load.
     */
    public CompletableFuture<ResidentAdapter> acquire(String key, Path dir) {
        CompletableFuture<ResidentAdapter> result = new CompletableFuture<>();
        engine.submit(() -> {
            ResidentAdapter r = resident.get(key);
            if (r != null) {
                hits++;
                publish();
                result.complete(r);
                return;
            }
            misses++;
            publish();
            loading.computeIfAbsent(key, k -> startLoad(k, dir)).whenComplete((a, e) -> {
                if (e != null) {
                    result.completeExceptionally(e);
                } else {
                    result.complete(a);
                }
            });
        });
        return result;
    }

    private CompletableFuture<ResidentAdapter> startLoad(String key, Path dir) {
        CompletableFuture<ResidentAdapter> done = new CompletableFuture<>();
        long started = System.nanoTime();
        CompletableFuture.supplyAsync(() -> source.load(key, dir), loader).whenComplete((adapter, error) -> {
            loaded.add(new Loaded(key, adapter, error, done, started));
            if (installQueued.compareAndSet(false, true)) {
                engine.submit(this::installLoaded);
            }
        });
        return done;
    }

    /** An adapter read and checked on the loader, waiting for the engine thread to install it (or its error). */
    private record Loaded(String key, Adapter adapter, Throwable error, CompletableFuture<ResidentAdapter> done,
                          long started) {
    }

    /**
     * Engine thread, between steps: installs at most {@value #INSTALLS_PER_ROUND} loaded adapters, so that however
     * many loads finish together, the next step waits for a bounded copy; the rest go in the following rounds.
     */
    private void installLoaded() {
        installQueued.set(false);
        for (int n = 0; n < INSTALLS_PER_ROUND; n++) {
            Loaded l = loaded.poll();
            if (l == null) {
                return;
            }
            if (l.error() == null && !fits(l)) {
                loaded.add(l);   // wait for a running sequence to let an adapter go rather than exceed the budget
                break;
            }
            install(l);
        }
        if (!loaded.isEmpty() && installQueued.compareAndSet(false, true)) {
            engine.submit(this::installLoaded);
        }
    }

    /**
     * Whether the adapter fits the budget once idle residents are evicted. One that does not waits while some
     * resident is held by a running sequence (it frees); a pinned one, or one with nothing held to wait for, goes
     * in over the budget (warned).
     */
    private boolean fits(Loaded l) {
        long bytes = engine.adapters().bytes(l.adapter());
        makeRoom(bytes);
        return residentBytes + bytes <= budgetBytes || pinned.containsKey(l.key())
                || resident.values().stream().noneMatch(r -> r.holders() > 0);
    }

    private void install(Loaded l) {
        String key = l.key();
        loading.remove(key);
        try {
            if (l.error() != null) {
                throw l.error() instanceof java.util.concurrent.CompletionException c ? c.getCause() : l.error();
            }
            ResidentAdapter r = engine.adapters().install(idOf(key), l.adapter(), key);
            resident.put(key, r);
            residentKeys.add(key);
            residentBytes += r.bytes();
            loads++;
            loadTimes.accept(System.nanoTime() - l.started());
            if (residentBytes > budgetBytes) {
                // nothing left to evict: the rest is pinned or held; served anyway, but never silently
                LOG.log(System.Logger.Level.WARNING, "adapters resident: " + residentBytes + " bytes, "
                        + (residentBytes - budgetBytes) + " over the budget of " + budgetBytes
                        + " (pinned or in use, so not evicted; " + key + " loaded last)");
            }
            publish();
            l.done().complete(r);
        } catch (Throwable cause) {
            // a load or install that fails is its requests' failure, never the engine loop's (which would fail
            // every running sequence and count against liveness)
            failures++;
            publish();
            LOG.log(System.Logger.Level.WARNING, "adapter " + key + " failed to load: " + cause.getMessage());
            l.done().completeExceptionally(cause);
        }
    }

    /** Evicts least recently used adapters that are neither pinned nor held until {@code bytes} (engine bytes) fit. */
    private void makeRoom(long bytes) {
        for (Iterator<Map.Entry<String, ResidentAdapter>> it = resident.entrySet().iterator();
             it.hasNext() && residentBytes + bytes > budgetBytes; ) {
            Map.Entry<String, ResidentAdapter> e = it.next();
            ResidentAdapter r = e.getValue();
            if (r.holders() == 0 && !pinned.containsKey(e.getKey())) {
                it.remove();
                residentKeys.remove(e.getKey());
                uninstall(r);
                evictions++;
            }
        }
    }

    private void uninstall(ResidentAdapter r) {
        engine.adapters().uninstall(r);
        residentBytes -= r.bytes();
    }

    /** Keeps the adapter resident whatever the budget (it still loads on first use, or now if dir is given). */
    public void pin(String key, Path dir) {
        pinned.put(key, Boolean.TRUE);
        if (dir != null) {
            acquire(key, dir);
        }
    }

    public void unpin(String key) {
        pinned.remove(key);
    }

    /** Drops the adapter when no sequence holds it any more (a deleted or replaced version). */
    public void invalidate(String key) {
        pinned.remove(key);
        engine.submit(() -> dropWhenFree(key));
    }

    private void dropWhenFree(String key) {
        ResidentAdapter r = resident.get(key);
        if (r == null) {
            return;
        }
        if (r.holders() > 0) {
            engine.submit(() -> dropWhenFree(key));   // in use: look again after the next step
            return;
        }
        resident.remove(key);
        residentKeys.remove(key);
        uninstall(r);
        evictions++;
        publish();
    }

    /** Any thread: is the key installed right now? (Without touching its recency: a look is not a use.) */
    public boolean isResident(String key) {
        return residentKeys.contains(key);
    }

    /** Engine thread: the key's installed adapter now (counted as recently used), or null when it is not resident. */
    public ResidentAdapter resident(String key) {
        return resident.get(key);
    }

    /** Where each load's time goes (a metrics histogram); replaces the one before. */
    public void onLoaded(LongConsumer nanos) {
        loadTimes = nanos;
    }

    public Stats stats() {
        return stats;
    }

    private void publish() {
        stats = new Stats(loads, hits, misses, evictions, residentBytes, resident.size(), failures, Math.max(0, residentBytes - budgetBytes));
    }
}
