package io.tessera.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The inference engine: one base model resident, a KV cache of {@code maxSequences} slots, and the adapters
 * installed next to the base weights. Not thread-safe: one engine thread opens sequences, runs steps and
 * releases them; other threads hand it work through {@link #submit(Runnable)}.
 */
public final class Engine implements AutoCloseable {
    private final NDManager root;
    private final DecoderModel model;
    private final KvCache cache;
    private final PrefixCache prefixes;   // null: off
    private final AdapterBank adapters;
    private final Sequence[] bySlot;
    private final Queue<Runnable> pending = new ConcurrentLinkedQueue<>();
    private final ModelFiles files;
    private final StepThreads threads;
    private long nextSequenceId = 1;
    private int running;

    private Engine(NDManager root, DecoderModel model, KvCache cache, long prefixCacheBytes, ModelFiles files) {
        this.root = root;
        this.model = model;
        this.cache = cache;
        this.prefixes = prefixCacheBytes > 0 ? new PrefixCache(root, prefixCacheBytes, cache.bytesPerEntry) : null;
        this.files = files;
        this.adapters = new AdapterBank(model, root);
        this.bySlot = new Sequence[cache.slots];
        this.threads = new StepThreads(model.config(), StepThreads.configuredMax());
    }

    public static Engine open(EngineOptions options) {
        ModelConfig config = ModelConfig.load(options.modelDir());
        try (Checkpoint cp = Checkpoint.open(options.modelDir())) {
            return open(options, config, cp);
        }
    }

    /**
     * An engine on weights that need not come from the model directory (random weights of a config.json's shape, for
     * benchmarks); {@code options.modelDir()} then only names where the config came from. The weights stay the caller's.
     */
    public static Engine open(EngineOptions options, ModelConfig config, Weights weights) {
        Device device = pickDevice(options.device());
        DataType dtype = device.isGpu() ? DataType.FLOAT16 : DataType.FLOAT32;
        NDManager root = NDManager.newBaseManager(device);
        try {
            DecoderModel model = DecoderModel.load(config, weights, root, dtype);
            int capacity = options.cacheCapacity() > 0 ? options.cacheCapacity() : config.maxPositionEmbeddings() + 64;
            KvCache cache = new KvCache(root, config, options.maxSequences(), capacity, dtype);
            return new Engine(root, model, cache, options.prefixCacheBytes(), new ModelFiles(options.modelDir(), config));
        } catch (RuntimeException e) {
            root.close();
            throw e;
        }
    }

    private static Device pickDevice(EngineOptions.Device wanted) {
        int gpus = ai.djl.engine.Engine.getEngine("PyTorch").getGpuCount();
        return switch (wanted) {
            case CPU -> Device.cpu();
            case GPU -> {
                if (gpus == 0) {
                    throw new IllegalStateException("device gpu requested but PyTorch sees no GPU");
                }
                yield Device.gpu();
            }
            case AUTO -> gpus > 0 ? Device.gpu() : Device.cpu();
        };
    }

    public ModelConfig config() {
        return model.config();
    }

    public ModelFiles files() {
        return files;
    }

    public DecoderModel model() {
        return model;
    }

    public AdapterBank adapters() {
        return adapters;
    }

    public Device device() {
        return root.getDevice();
    }

    public int maxSequences() {
        return cache.slots;
    }

    public int cacheCapacity() {
        return cache.capacity;
    }

    public int running() {
        return running;
    }

    /**
     * Native arrays alive under the engine's manager, sub-managers counted recursively. Between steps it changes
     * only with what is resident (adapters, cached slot weights, prefix entries), never with the number of steps.
     */
    public int liveArrays() {
        return root.getManagedArrays().size();
    }

    /** Bytes of KV one position takes (all layers, keys and values). */
    public long kvBytesPerEntry() {
        return cache.bytesPerEntry;
    }

    /** KV bytes a sequence holds now: its entries times {@link #kvBytesPerEntry()}. */
    public long kvBytes(Sequence s) {
        int entries = s.policy instanceof AttentionPolicy.LmInfinite li
                ? Math.min(s.length, li.nGlobal()) + Math.min(s.length, li.nLocal()) : s.length;
        return entries * cache.bytesPerEntry;
    }

    /**
     * libtorch keeps its intra-op thread count per OS thread (an OpenMP setting) and DJL applies
     * {@code ai.djl.pytorch.num_threads} only on the thread that started it: an engine loop on another thread
     * calls this first, or it runs with one thread per core. Each CPU step then picks its count up to that one
     * ({@link StepThreads}).
     */
    public void adoptThreadSettings() {
        Integer threads = Integer.getInteger("ai.djl.pytorch.num_threads");
        if (threads != null && threads > 0) {
            ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
        }
    }

    /** Work for the engine thread (adapter installs): runs before the next step. */
    public void submit(Runnable task) {
        pending.add(task);
    }

    /** Runs submitted work now; the engine loop calls this when idle. */
    public void runPending() {
        // only what is queued now: a task may queue a follow-up for the next round
        for (int n = pending.size(); n > 0; n--) {
            Runnable r = pending.poll();
            if (r == null) {
                break;
            }
            r.run();
        }
    }

    /** Whether work is queued for the engine thread. */
    public boolean hasPending() {
        return !pending.isEmpty();
    }

    /**
     * Claims a KV slot for a sequence that only scores what it is fed (every token counts as its prompt). The
     * adapter, if any, must be installed and stays until release.
     */
    public Sequence open(AttentionPolicy policy, ResidentAdapter adapter) {
        return open(policy, adapter, Integer.MAX_VALUE);
    }

    /**
     * Claims a KV slot for a sequence whose prompt has {@code promptLength} tokens: what it is fed after them is
     * generated, which adapters may treat differently (DePT updates prompt embeddings only).
     */
    public Sequence open(AttentionPolicy policy, ResidentAdapter adapter, int promptLength) {
        if (promptLength < 0) {
            throw new IllegalArgumentException("prompt length " + promptLength + " is negative");
        }
        if (running == cache.slots) {
            throw new CapacityException("all " + cache.slots + " KV slots are in use");
        }
        if (policy instanceof AttentionPolicy.LmInfinite li && li.cacheEntries() > cache.capacity) {
            throw new CapacityException("lm-infinite with n_global + n_local = " + li.cacheEntries()
                    + " exceeds the KV capacity per sequence (" + cache.capacity + ")");
        }
        if (adapter != null) {
            adapters.retain(adapter);
        }
        Sequence s = new Sequence(nextSequenceId++, running, policy, adapter);
        s.promptEnd = (int) Math.min(Integer.MAX_VALUE, (long) s.virtualTokens() + promptLength);
        bySlot[running++] = s;
        return s;
    }

    /**
     * Starts a new sequence from the longest cached prefix of its prompt made in the same scope with the same adapter
     * version under full attention: those positions are copied into its slot instead of computed. Returns the prompt
     * tokens covered (0: none); the caller steps only the rest, at least one token.
     */
    public int reusePrefix(Sequence s, String scope, int[] prompt) {
        if (prefixes == null || s.length != 0 || !(s.policy instanceof AttentionPolicy.Full)) {
            return 0;
        }
        PrefixCache.Hit hit = prefixes.find(scope, adapterId(s), prompt);
        if (hit == null) {
            return 0;
        }
        cache.copyIn(s.slot, hit.entry().kv, hit.positions());
        s.length = hit.positions();
        return hit.tokens();
    }

    /** Keeps a sequence's prompt for {@link #reusePrefix}; call once the whole prompt has been stepped, before decoding. */
    public void rememberPrefix(Sequence s, String scope, int[] prompt) {
        if (prefixes == null || !(s.policy instanceof AttentionPolicy.Full)) {
            return;
        }
        if (s.length != s.virtualTokens() + prompt.length) {
            throw new IllegalStateException("sequence " + s.id + " holds " + s.length + " positions, not its prompt's "
                    + (s.virtualTokens() + prompt.length));
        }
        prefixes.remember(cache, s.slot, scope, adapterId(s), s.virtualTokens(), prompt);
    }

    /** Bytes the prefix cache holds. */
    public long prefixCacheBytes() {
        return prefixes == null ? 0 : prefixes.bytes();
    }

    private static long adapterId(Sequence s) {
        return s.adapter == null ? 0 : s.adapter.id();
    }

    /** Frees the sequence's slot, cleared (see {@link KvCache}); the highest slot moves into it so slots stay dense. */
    public void release(Sequence s) {
        if (s.released) {
            return;
        }
        s.released = true;
        int last = --running;
        cache.clear(s.slot);
        if (s.slot != last) {
            Sequence moved = bySlot[last];
            cache.move(last, s.slot);
            moved.slot = s.slot;
            bySlot[s.slot] = moved;
        }
        bySlot[last] = null;
        if (s.adapter != null) {
            adapters.release(s.adapter);
        }
    }

    /**
     * Runs one forward pass over the inputs (any mix of prefill chunks and decode tokens, adapters and
     * policies). Returns, per input in order, the logits of its last position, or of every real position
     * ([n * V], row-major) when {@code allLogits}.
     */
    public List<float[]> step(List<StepInput> inputs) {
        return step(inputs, null);
    }

    public List<float[]> step(List<StepInput> inputs, RoutingTrace routing) {
        runPending();
        List<StepInput> order = new ArrayList<>(inputs);
        order.sort(Comparator.comparingInt(in -> in.sequence().slot));
        Map<Sequence, Boolean> seen = new IdentityHashMap<>();
        List<StepPlan.Row> rows = new ArrayList<>(order.size());
        int total = 0;
        for (StepInput in : order) {
            Sequence s = in.sequence();
            if (s.released || seen.put(s, Boolean.TRUE) != null) {
                throw new IllegalArgumentException("sequence " + s.id + " is released or appears twice in one step");
            }
            int virtual = s.length == 0 ? s.virtualTokens() : 0;
            rows.add(new StepPlan.Row(s.slot, s.length, virtual + in.tokens().length, s.policy));
            total += virtual + in.tokens().length;
        }
        StepPlan plan = new StepPlan(rows, cache.capacity);
        for (StepPlan.Writes w : List.of(plan.before, plan.globalsBefore, plan.after)) {
            cache.willWrite(w);
        }
        long[] ids = new long[total];
        List<long[]> logitRowsPerInput = new ArrayList<>(order.size());
        int logitCount = 0;
        List<ResidentAdapter> rowAdapters = new ArrayList<>(total);
        int[] positions = new int[total];
        boolean[] generated = new boolean[total];
        for (int i = 0; i < order.size(); i++) {
            StepInput in = order.get(i);
            Sequence s = in.sequence();
            int start = plan.rowStart[i];
            int virtual = rows.get(i).qLen() - in.tokens().length;
            for (int k = 0; k < rows.get(i).qLen(); k++) {
                // a virtual token's embedding is its adapter's (AdapterBatch.embed), not token 0's
                ids[start + k] = k < virtual ? 0 : in.tokens()[k - virtual];
                rowAdapters.add(s.adapter);
                positions[start + k] = s.length + k;
                generated[start + k] = s.length + k >= s.promptEnd;
            }
            int first = in.allLogits() ? start + virtual : start + rows.get(i).qLen() - 1;
            long[] lr = new long[start + rows.get(i).qLen() - first];
            for (int k = 0; k < lr.length; k++) {
                lr[k] = first + k;
            }
            logitRowsPerInput.add(lr);
            logitCount += lr.length;
        }
        long[] logitRows = new long[logitCount];
        int at = 0;
        for (long[] lr : logitRowsPerInput) {
            System.arraycopy(lr, 0, logitRows, at, lr.length);
            at += lr.length;
        }
        if (routing != null) {
            int[] start = new int[inputs.size()];
            int[] len = new int[inputs.size()];
            for (int i = 0; i < order.size(); i++) {
                int pos = inputs.indexOf(order.get(i));
                start[pos] = plan.rowStart[i];
                len[pos] = rows.get(i).qLen();
            }
            routing.inputs(start, len);
        }
        float[] logits;
        if (!root.getDevice().isGpu()) {
            threads.apply(total);
        }
        try (NDManager step = root.newSubManager()) {
            AdapterBatch batch = adapters.batch(step, rowAdapters, positions, generated);
            NDArray x = batch.embed(model.embed(step, ids));
            StepContext ctx = new StepContext(step, plan, batch, routing);
            logits = model.forward(ctx, x, cache, logitRows).toFloatArray();
        }
        for (int i = 0; i < order.size(); i++) {
            order.get(i).sequence().length += rows.get(i).qLen();
        }
        int vocab = model.config().vocabSize();
        Map<StepInput, float[]> byInput = new IdentityHashMap<>();
        at = 0;
        for (int i = 0; i < order.size(); i++) {
            int n = logitRowsPerInput.get(i).length * vocab;
            byInput.put(order.get(i), Arrays.copyOfRange(logits, at, at + n));
            at += n;
        }
        List<float[]> out = new ArrayList<>(inputs.size());
        for (StepInput in : inputs) {
            out.add(byInput.get(in));
        }
        return out;
    }

    @Override
    public void close() {
        adapters.close();
        if (prefixes != null) {
            prefixes.close();
        }
        cache.close();
        model.close();
        root.close();
    }

    /** Where the model came from, for loaders that need its other files (tokenizer, adapters' checks). */
    public record ModelFiles(Path dir, ModelConfig config) {
    }
}
