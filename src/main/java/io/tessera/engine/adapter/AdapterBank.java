package io.tessera.engine.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.tessera.engine.AdapterBatch;
import io.tessera.engine.DecoderModel;
import io.tessera.engine.ExpertOverride;
import io.tessera.engine.ModelConfig;
import io.tessera.engine.Rows;
import io.tessera.engine.Site;
import io.tessera.engine.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Installed adapters, laid out for batched application (the S-LoRA / Punica idea):
 * <ul>
 *   <li>LoRA weights live in stacked slot tensors per rank bucket (8, 16, 32, ...), per layer and site, with s
 *       folded into B (see {@link SiteLayout}). A step groups its rows by slot and runs one batched matmul pair
 *       per site and bucket, whatever the number of distinct adapters.</li>
 *   <li>DoRA's per-output scale m / ||W + sBA|| is one row per DoRA adapter in a table per layer and site,
 *       row 0 being ones; a step multiplies by a per-row gather of it.</li>
 *   <li>Prompt-tuning embeddings and replacement experts of expert-group adapters.</li>
 * </ul>
 * Engine thread only.
 */
public final class AdapterBank implements AutoCloseable {
    private static final Site[] SITES = Site.values();

    private final DecoderModel model;
    private final ModelConfig config;
    private final NDManager manager;
    private final List<Site> sites;
    private final Map<Integer, Bucket> buckets = new TreeMap<>();
    private NDArray[][] doraTables;                 // [layer][site] : [rows, out], row 0 = ones
    private final BitSet doraRows = new BitSet();
    private final List<ResidentAdapter> expertAdapters = new ArrayList<>();
    private NDArray[] expertGateUp;                 // per layer [A, E, 2I] or null
    private NDArray[] expertDown;
    private int installedCount;

    public AdapterBank(DecoderModel model, NDManager parent) {
        this.model = model;
        this.config = model.config();
        this.manager = parent.newSubManager();
        this.sites = model.hasDenseMlp() ? List.of(SITES) : List.of(Site.QKV, Site.O);
    }

    public int installed() {
        return installedCount;
    }

    /** Copies a loaded adapter into the engine's tensors under the given internal id. */
    public ResidentAdapter install(long id, Adapter adapter, String label) {
        ResidentAdapter r = new ResidentAdapter(id, adapter, label);
        if (adapter instanceof LoraAdapter lora) {
            installLora(r, lora);
        } else if (adapter instanceof PromptTuningAdapter p) {
            r.prompt = Tensors.create(manager, p.embeddings(), new Shape(p.virtualTokens(), p.hidden()), model.dtype());
        } else {
            r.expertMap = new int[config.moe().orElseThrow().numExperts()];
            expertAdapters.add(r);
            rebuildExperts();
        }
        r.installed = true;
        installedCount++;
        return r;
    }

    /** Frees what the adapter occupies; it must not be held by any sequence. */
    public void uninstall(ResidentAdapter r) {
        if (!r.installed) {
            return;
        }
        if (r.holders > 0) {
            throw new IllegalStateException(r + " is still used by " + r.holders + " sequences");
        }
        if (r.bucket != null) {
            r.bucket.used.clear(r.slot);
        }
        if (r.doraRow > 0) {
            doraRows.clear(r.doraRow);
        }
        if (r.prompt != null) {
            r.prompt.close();
        }
        if (r.expertMap != null) {
            expertAdapters.remove(r);
            rebuildExperts();
        }
        r.installed = false;
        installedCount--;
    }

    public void retain(ResidentAdapter r) {
        if (!r.installed) {
            throw new IllegalStateException(r + " is not installed");
        }
        r.holders++;
    }

    public void release(ResidentAdapter r) {
        r.holders--;
    }

    // ---- LoRA ----

    private void installLora(ResidentAdapter r, LoraAdapter lora) {
        int rank = Math.max(8, Integer.highestOneBit(lora.maxRank() - 1) << 1);
        Bucket b = buckets.computeIfAbsent(rank, Bucket::new);
        int slot = b.allocate();
        for (int l = 0; l < config.numLayers(); l++) {
            for (Site site : sites) {
                int si = site.ordinal();
                SiteLayout layout = b.layouts[si];
                float[][] ab = hostSlot(lora, l, site, layout);
                try (NDArray a = Tensors.create(manager, ab[0], layout.aShape(1), model.dtype());
                     NDArray bb = Tensors.create(manager, ab[1], layout.bShape(1), model.dtype())) {
                    b.a[l][si].set(new NDIndex("{}:{}", slot, slot + 1), a);
                    b.b[l][si].set(new NDIndex("{}:{}", slot, slot + 1), bb);
                }
            }
        }
        r.bucket = b;
        r.slot = slot;
        EnumSet<Site> used = EnumSet.noneOf(Site.class);
        lora.modules().values().forEach(m -> used.add(Site.of(m.name())));
        b.sites[slot] = used;
        b.version++;
        if (lora.dora()) {
            installDora(r, lora);
        }
    }

    /** A^T [chunks * rank, in] and B [chunks, rank, width] of one site, zero where a module is not targeted. */
    private float[][] hostSlot(LoraAdapter lora, int layer, Site site, SiteLayout layout) {
        int in = in(site);
        int width = layout.width();
        float[] a = new float[layout.chunks() * layout.rank() * in];
        float[] b = new float[layout.chunks() * layout.rank() * width];
        for (int j = 0; j < site.modules.size(); j++) {
            LoraAdapter.Module m = lora.modules().get(LoraAdapter.key(layer, site.modules.get(j)));
            if (m == null) {
                continue;
            }
            int[] range = model.outputRange(site, m.name());
            // one chunk holding every module's rank block side by side, or the module's own chunks
            int rankOffset = layout.chunks() == 1 ? j * layout.rank() / site.modules.size() : 0;
            for (int chunk = range[0] / width; chunk < range[1] / width; chunk++) {
                for (int k = 0; k < m.rank(); k++) {
                    int col = chunk * layout.rank() + rankOffset + k;
                    for (int i = 0; i < in; i++) {
                        a[col * in + i] = m.a()[k * in + i];
                    }
                    int from = Math.max(range[0], chunk * width);
                    int to = Math.min(range[1], (chunk + 1) * width);
                    for (int o = from; o < to; o++) {
                        b[col * width + o - chunk * width] = m.scale() * m.b()[(o - range[0]) * m.rank() + k];
                    }
                }
            }
        }
        return new float[][] {a, b};
    }

    /** Widths of a site's modules in output order. */
    private int[] moduleWidths(Site site) {
        return site.modules.stream().mapToInt(mod -> {
            int[] r = model.outputRange(site, mod);
            return r[1] - r[0];
        }).toArray();
    }

    private void installDora(ResidentAdapter r, LoraAdapter lora) {
        int row = doraRows.nextClearBit(1);
        doraRows.set(row);
        if (doraTables == null) {
            doraTables = new NDArray[config.numLayers()][SITES.length];
            for (int l = 0; l < config.numLayers(); l++) {
                for (Site site : sites) {
                    doraTables[l][site.ordinal()] = manager.ones(new Shape(2, out(site)), model.dtype());
                }
            }
        }
        for (int l = 0; l < config.numLayers(); l++) {
            for (Site site : sites) {
                NDArray table = doraTables[l][site.ordinal()];
                long rows = table.getShape().get(0);
                if (row >= rows) {
                    try (NDArray more = manager.ones(new Shape(rows, out(site)), model.dtype())) {
                        NDArray grown = table.concat(more, 0);
                        table.close();
                        table = grown;
                    }
                    doraTables[l][site.ordinal()] = table;
                }
                float[] v = new float[out(site)];
                Arrays.fill(v, 1f);
                for (String module : site.modules) {
                    LoraAdapter.Module m = lora.modules().get(LoraAdapter.key(l, module));
                    if (m != null && m.doraScale() != null) {
                        System.arraycopy(m.doraScale(), 0, v, model.outputRange(site, module)[0], m.doraScale().length);
                    }
                }
                try (NDArray vec = Tensors.create(manager, v, new Shape(v.length), model.dtype())) {
                    table.set(new NDIndex("{}", row), vec);
                }
            }
        }
        r.doraRow = row;
    }

    private int in(Site site) {
        return switch (site) {
            case QKV, GATE_UP -> config.hiddenSize();
            case O -> config.numHeads() * config.headDim();
            case DOWN -> config.intermediateSize();
        };
    }

    private int out(Site site) {
        return switch (site) {
            case QKV -> (config.numHeads() + 2 * config.numKvHeads()) * config.headDim();
            case O, DOWN -> config.hiddenSize();
            case GATE_UP -> 2 * config.intermediateSize();
        };
    }

    /** One rank bucket: stacked slot tensors that double when full. */
    final class Bucket {
        final BitSet used = new BitSet();
        final NDArray[][] a = new NDArray[config.numLayers()][SITES.length];
        final NDArray[][] b = new NDArray[config.numLayers()][SITES.length];
        final SiteLayout[] layouts = new SiteLayout[SITES.length];
        EnumSet<Site>[] sites;
        int capacity;
        // bumped whenever slot contents or the stacks change; cached SlotWeights of another version are stale
        int version;
        private SlotWeights cached;

        @SuppressWarnings("unchecked")
        Bucket(int rank) {
            this.capacity = 4;
            this.sites = new EnumSet[capacity];
            for (Site site : AdapterBank.this.sites) {
                layouts[site.ordinal()] = SiteLayout.choose(rank, in(site), moduleWidths(site));
            }
            for (int l = 0; l < config.numLayers(); l++) {
                for (Site site : AdapterBank.this.sites) {
                    SiteLayout layout = layouts[site.ordinal()];
                    a[l][site.ordinal()] = manager.zeros(layout.aShape(capacity), model.dtype());
                    b[l][site.ordinal()] = manager.zeros(layout.bShape(capacity), model.dtype());
                }
            }
        }

        int allocate() {
            int slot = used.nextClearBit(0);
            if (slot >= capacity) {
                grow(capacity * 2);
            }
            used.set(slot);
            return slot;
        }

        private void grow(int newCapacity) {
            for (int l = 0; l < config.numLayers(); l++) {
                for (Site site : AdapterBank.this.sites) {
                    int si = site.ordinal();
                    a[l][si] = grown(a[l][si], newCapacity);
                    b[l][si] = grown(b[l][si], newCapacity);
                }
            }
            sites = Arrays.copyOf(sites, newCapacity);
            capacity = newCapacity;
            version++;
        }

        /**
         * The stacks of the given slots: views when they are 0..n-1, else gathered copies. Kept while the slots
         * and their contents are unchanged (most decode steps), so a step pays only for its activations.
         */
        SlotWeights weights(BitSet slots, boolean view) {
            if (cached != null && cached.version() == version && cached.slots().equals(slots)) {
                return cached;
            }
            if (cached != null) {
                cached.manager().close();
            }
            NDManager m = manager.newSubManager();
            NDIndex index = view ? new NDIndex("0:{}", slots.length()) : new NDIndex("{}", m.create(slots.stream().asLongStream().toArray()));
            NDArray[][] wa = new NDArray[config.numLayers()][SITES.length];
            NDArray[][] wb = new NDArray[config.numLayers()][SITES.length];
            for (int l = 0; l < config.numLayers(); l++) {
                for (Site site : AdapterBank.this.sites) {
                    int si = site.ordinal();
                    wa[l][si] = a[l][si].get(index);
                    wb[l][si] = b[l][si].get(index);
                    wa[l][si].attach(m);
                    wb[l][si].attach(m);
                }
            }
            cached = new SlotWeights((BitSet) slots.clone(), version, m, wa, wb);
            return cached;
        }

        private NDArray grown(NDArray t, int newCapacity) {
            long[] more = t.getShape().getShape();
            more[0] = newCapacity - more[0];
            try (NDArray zeros = manager.zeros(new Shape(more), model.dtype())) {
                NDArray g = t.concat(zeros, 0);
                t.close();
                return g;
            }
        }

        int highestUsed() {
            return used.length();
        }
    }

    // ---- expert groups ----

    private void rebuildExperts() {
        if (expertGateUp != null) {
            Arrays.stream(expertGateUp).forEach(NDArray::close);
            Arrays.stream(expertDown).forEach(NDArray::close);
            expertGateUp = null;
            expertDown = null;
        }
        if (expertAdapters.isEmpty()) {
            return;
        }
        int layers = config.numLayers();
        int e = config.hiddenSize();
        int inter = config.moe().orElseThrow().moeIntermediateSize();
        expertGateUp = new NDArray[layers];
        expertDown = new NDArray[layers];
        int total = 0;
        for (ResidentAdapter r : expertAdapters) {
            ExpertGroupAdapter g = (ExpertGroupAdapter) r.source;
            r.expertOffset = total;
            Arrays.fill(r.expertMap, -1);
            for (int i = 0; i < g.experts().length; i++) {
                r.expertMap[g.experts()[i]] = total + i;
            }
            total += g.experts().length;
        }
        for (int l = 0; l < layers; l++) {
            NDList gu = new NDList();
            NDList dn = new NDList();
            for (ResidentAdapter r : expertAdapters) {
                ExpertGroupAdapter g = (ExpertGroupAdapter) r.source;
                int n = g.experts().length;
                gu.add(Tensors.create(manager, g.gateUp()[l], new Shape(n, e, 2 * inter), model.dtype()));
                dn.add(Tensors.create(manager, g.down()[l], new Shape(n, inter, e), model.dtype()));
            }
            expertGateUp[l] = gu.size() == 1 ? gu.get(0) : NDArrays.concat(gu, 0);
            expertDown[l] = dn.size() == 1 ? dn.get(0) : NDArrays.concat(dn, 0);
            if (gu.size() > 1) {
                gu.close();
                dn.close();
            }
        }
    }

    // ---- per step ----

    /** The step's adapter work for its packed rows (row i uses rowAdapters[i], null = base model). */
    public AdapterBatch batch(NDManager step, List<ResidentAdapter> rowAdapters) {
        int t = rowAdapters.size();
        Map<Bucket, List<int[]>> byBucket = new java.util.IdentityHashMap<>();
        long[] dora = null;
        int[][] expertMaps = null;
        for (int i = 0; i < t; i++) {
            ResidentAdapter r = rowAdapters.get(i);
            if (r == null) {
                continue;
            }
            if (r.bucket != null) {
                byBucket.computeIfAbsent(r.bucket, k -> new ArrayList<>()).add(new int[] {i, r.slot});
            }
            if (r.doraRow > 0) {
                dora = dora == null ? new long[t] : dora;
                dora[i] = r.doraRow;
            }
            if (r.expertMap != null) {
                expertMaps = expertMaps == null ? new int[t][] : expertMaps;
                expertMaps[i] = r.expertMap;
            }
        }
        if (byBucket.isEmpty() && dora == null && expertMaps == null) {
            return AdapterBatch.NONE;
        }
        List<LoraGroup> groups = new ArrayList<>();
        byBucket.forEach((bucket, rows) -> groups.add(new LoraGroup(step, bucket, rows, t)));
        NDArray doraIdx = dora == null ? null : step.create(dora);
        ExpertOverride experts = expertMaps == null ? null : new ExpertOverride(expertMaps, expertGateUp, expertDown);
        return new StepAdapters(groups, doraIdx, experts);
    }

    /**
     * One bucket's rows in a step, grouped by slot into [groups, m] (m = most rows of one adapter). When most of
     * the bucket's slots are present the groups are the slots themselves and the weights are read as a view;
     * otherwise the present slots' weights are gathered, so idle residents cost nothing.
     */
    private final class LoraGroup {
        final Bucket bucket;
        final NDArray grouped;    // [groups, m] packed row per grouped position
        final NDArray back;       // [T] grouped position (group * m + position) per packed row
        private final NDManager step;
        private final Map<Integer, NDArray> backChunks = new HashMap<>();  // chunks -> [T, chunks] rows of [groups * chunks * m, width]
        final int groups;
        final int m;
        final int t;
        private final long[] gi;
        private final long[] pi;
        final NDArray keep;       // [T, 1] boolean, false for rows outside this bucket; null when every row is in it
        private final NDArray zero;
        final SlotWeights weights;
        final EnumSet<Site> sites = EnumSet.noneOf(Site.class);

        LoraGroup(NDManager step, Bucket bucket, List<int[]> rows, int t) {
            this.bucket = bucket;
            this.step = step;
            this.t = t;
            int hi = bucket.highestUsed();
            int[] count = new int[hi];
            BitSet slots = new BitSet();
            for (int[] r : rows) {
                count[r[1]]++;
                slots.set(r[1]);
            }
            this.m = Arrays.stream(count).max().orElse(1);
            boolean view = slots.cardinality() * 2 >= hi;
            this.weights = bucket.weights(view ? bitsBelow(hi) : slots, view);
            int[] groupOf = new int[hi];
            int g = 0;
            for (int s = slots.nextSetBit(0); s >= 0; s = slots.nextSetBit(s + 1)) {
                groupOf[s] = view ? s : g++;
                sites.addAll(bucket.sites[s]);
            }
            this.groups = view ? hi : slots.cardinality();
            long[] gat = new long[groups * m];
            gi = new long[t];
            pi = new long[t];
            boolean[] msk = rows.size() < t ? new boolean[t] : null;
            int[] fill = new int[hi];
            for (int[] r : rows) {
                gi[r[0]] = groupOf[r[1]];
                pi[r[0]] = fill[r[1]]++;
                gat[(int) (gi[r[0]] * m + pi[r[0]])] = r[0];
                if (msk != null) {
                    msk[r[0]] = true;
                }
            }
            this.grouped = step.create(gat, new Shape(groups, m));
            long[] position = new long[t];
            Arrays.setAll(position, i -> gi[i] * this.m + pi[i]);
            this.back = step.create(position);
            this.keep = msk == null ? null : step.create(msk, new Shape(t, 1));
            this.zero = msk == null ? null : step.zeros(new Shape(), model.dtype());
        }

        NDArray delta(Site site, int layer, NDArray x) {
            int si = site.ordinal();
            SiteLayout layout = bucket.layouts[si];
            int chunks = layout.chunks();
            // A^T x^T reads A row by row: measurably faster than x A for these skinny products. The product lands
            // in the cached weights' manager, which outlives the step: move it into the step, and with it all that
            // is computed from it below
            NDArray hT = weights.a[layer][si].matMul(Rows.select(x, grouped).transpose(0, 2, 1));      // [groups, chunks * r, m]
            hT.attach(step);
            NDArray d;
            if (chunks == 1) {
                d = Rows.select(hT.transpose(0, 2, 1).matMul(weights.b[layer][si]).reshape(groups * m, -1), back);  // [T, out]
            } else {
                NDArray h = hT.reshape(groups, chunks, layout.rank(), m).transpose(0, 1, 3, 2);      // [groups, chunks, m, r]
                NDArray all = h.matMul(weights.b[layer][si]).reshape(-1, layout.width());             // [groups * chunks * m, width]
                d = Rows.select(all, backChunks(chunks)).reshape(t, (long) chunks * layout.width());   // [T, chunks, width] -> [T, out]
            }
            // rows outside the bucket got another row's product (position 0): replace it, never multiply it by 0,
            // or a non-finite product of one tenant would reach another's row (NaN * 0 = NaN)
            return keep == null ? d : NDArrays.where(keep.broadcast(d.getShape()), d, zero);
        }

        private NDArray backChunks(int chunks) {
            return backChunks.computeIfAbsent(chunks, c -> {
                long[] rows = new long[t * c];
                for (int i = 0; i < t; i++) {
                    for (int k = 0; k < c; k++) {
                        rows[i * c + k] = (gi[i] * c + k) * m + pi[i];
                    }
                }
                return step.create(rows, new Shape(t, c));
            });
        }
    }

    private static BitSet bitsBelow(int n) {
        BitSet b = new BitSet();
        b.set(0, n);
        return b;
    }

    /** A bucket's A and B stacks [layer][site] restricted to some slots. */
    private record SlotWeights(BitSet slots, int version, NDManager manager, NDArray[][] a, NDArray[][] b) {
    }

    private final class StepAdapters implements AdapterBatch {
        private final List<LoraGroup> groups;
        private final NDArray doraIdx;
        private final ExpertOverride experts;

        StepAdapters(List<LoraGroup> groups, NDArray doraIdx, ExpertOverride experts) {
            this.groups = groups;
            this.doraIdx = doraIdx;
            this.experts = experts;
        }

        @Override
        public NDArray apply(Site site, int layer, NDArray x, NDArray y) {
            for (LoraGroup g : groups) {
                if (g.sites.contains(site)) {
                    y = y.add(g.delta(site, layer, x));
                }
            }
            if (doraIdx != null && doraTables[layer][site.ordinal()] != null) {
                y = y.mul(Rows.select(doraTables[layer][site.ordinal()], doraIdx));
            }
            return y;
        }

        @Override
        public ExpertOverride experts() {
            return experts;
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
