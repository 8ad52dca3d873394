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
import io.tessera.engine.Site;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Installed adapters, laid out for batched application (the S-LoRA / Punica idea):
 * <ul>
 *   <li>LoRA weights live in stacked slot tensors per rank bucket (8, 16, 32, ...), per layer and site:
 *       A [slots, in, modules * rank] and B [slots, modules * rank, out], with s folded into B and the
 *       fused modules' B blocks placed on their output ranges. A step groups its rows by slot and runs one
 *       batched matmul pair per site and bucket, whatever the number of distinct adapters.</li>
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
            r.prompt = manager.create(p.embeddings(), new Shape(p.virtualTokens(), p.hidden())).toType(model.dtype(), false);
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
                float[][] ab = hostSlot(lora, l, site, rank);
                int si = site.ordinal();
                try (NDArray a = manager.create(ab[0], new Shape(in(site), site.modules.size() * rank)).toType(model.dtype(), false);
                     NDArray bb = manager.create(ab[1], new Shape(site.modules.size() * rank, out(site))).toType(model.dtype(), false)) {
                    b.a[l][si].set(new NDIndex("{}", slot), a);
                    b.b[l][si].set(new NDIndex("{}", slot), bb);
                }
            }
        }
        r.bucket = b;
        r.slot = slot;
        EnumSet<Site> used = EnumSet.noneOf(Site.class);
        lora.modules().values().forEach(m -> used.add(Site.of(m.name())));
        b.sites[slot] = used;
        if (lora.dora()) {
            installDora(r, lora);
        }
    }

    /** A [in, modules * rank] and B [modules * rank, out] of one site, zero where a module is not targeted. */
    private float[][] hostSlot(LoraAdapter lora, int layer, Site site, int rank) {
        int in = in(site);
        int out = out(site);
        int width = site.modules.size() * rank;
        float[] a = new float[in * width];
        float[] b = new float[width * out];
        for (int j = 0; j < site.modules.size(); j++) {
            LoraAdapter.Module m = lora.modules().get(LoraAdapter.key(layer, site.modules.get(j)));
            if (m == null) {
                continue;
            }
            int[] range = model.outputRange(site, m.name());
            int mo = range[1] - range[0];
            for (int k = 0; k < m.rank(); k++) {
                int col = j * rank + k;
                for (int i = 0; i < in; i++) {
                    a[i * width + col] = m.a()[k * in + i];
                }
                for (int o = 0; o < mo; o++) {
                    b[col * out + range[0] + o] = m.scale() * m.b()[o * m.rank() + k];
                }
            }
        }
        return new float[][] {a, b};
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
                    NDArray grown = table.concat(manager.ones(new Shape(rows, out(site)), model.dtype()), 0);
                    table.close();
                    table = grown;
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
                try (NDArray vec = manager.create(v).toType(model.dtype(), false)) {
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
        final int rank;
        final BitSet used = new BitSet();
        final NDArray[][] a = new NDArray[config.numLayers()][SITES.length];
        final NDArray[][] b = new NDArray[config.numLayers()][SITES.length];
        EnumSet<Site>[] sites;
        int capacity;

        @SuppressWarnings("unchecked")
        Bucket(int rank) {
            this.rank = rank;
            this.capacity = 4;
            this.sites = new EnumSet[capacity];
            for (int l = 0; l < config.numLayers(); l++) {
                for (Site site : AdapterBank.this.sites) {
                    int w = site.modules.size() * rank;
                    a[l][site.ordinal()] = manager.zeros(new Shape(capacity, in(site), w), model.dtype());
                    b[l][site.ordinal()] = manager.zeros(new Shape(capacity, w, out(site)), model.dtype());
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
        }

        private NDArray grown(NDArray t, int newCapacity) {
            Shape s = t.getShape();
            NDArray g = t.concat(manager.zeros(new Shape(newCapacity - s.get(0), s.get(1), s.get(2)), model.dtype()), 0);
            t.close();
            return g;
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
                gu.add(manager.create(g.gateUp()[l], new Shape(n, e, 2 * inter)).toType(model.dtype(), false));
                dn.add(manager.create(g.down()[l], new Shape(n, inter, e)).toType(model.dtype(), false));
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
        return new StepAdapters(step, groups, doraIdx, experts);
    }

    /**
     * One bucket's rows in a step, grouped by slot into [groups, m] (m = most rows of one adapter). When most of
     * the bucket's slots are present the groups are the slots themselves and the weights are read as a view;
     * otherwise the present slots' weights are gathered, so idle residents cost nothing.
     */
    private final class LoraGroup {
        final Bucket bucket;
        final NDArray gather;     // [groups * m] packed row per grouped position
        final NDArray inverse;    // [T] grouped position per packed row
        final NDArray mask;       // [T, 1] or null when every row of the step is in this bucket
        final NDArray present;    // slots gathered, or null (view of slots 0..groups-1)
        final int groups;
        final int m;
        final EnumSet<Site> sites = EnumSet.noneOf(Site.class);

        LoraGroup(NDManager step, Bucket bucket, List<int[]> rows, int t) {
            this.bucket = bucket;
            int hi = bucket.highestUsed();
            int[] count = new int[hi];
            BitSet slots = new BitSet();
            for (int[] r : rows) {
                count[r[1]]++;
                slots.set(r[1]);
            }
            int mm = Arrays.stream(count).max().orElse(1);
            boolean view = slots.cardinality() * 2 >= hi;
            int[] groupOf = new int[hi];
            long[] presentSlots = new long[slots.cardinality()];
            int g = 0;
            for (int s = slots.nextSetBit(0); s >= 0; s = slots.nextSetBit(s + 1)) {
                groupOf[s] = view ? s : g;
                presentSlots[g++] = s;
                sites.addAll(bucket.sites[s]);
            }
            this.groups = view ? hi : presentSlots.length;
            this.m = mm;
            long[] gat = new long[groups * m];
            long[] inv = new long[t];
            float[] msk = rows.size() < t ? new float[t] : null;
            int[] fill = new int[hi];
            for (int[] r : rows) {
                int pos = groupOf[r[1]] * m + fill[r[1]]++;
                gat[pos] = r[0];
                inv[r[0]] = pos;
                if (msk != null) {
                    msk[r[0]] = 1f;
                }
            }
            this.gather = step.create(gat);
            this.inverse = step.create(inv);
            this.mask = msk == null ? null : step.create(msk, new Shape(t, 1)).toType(model.dtype(), false);
            this.present = view ? null : step.create(presentSlots);
        }

        NDArray delta(NDManager step, Site site, int layer, NDArray x) {
            int si = site.ordinal();
            NDArray a = weights(step, bucket.a[layer][si]);
            NDArray b = weights(step, bucket.b[layer][si]);
            long in = x.getShape().get(1);
            NDArray xg = x.get(new NDIndex("{}", gather)).reshape(groups, m, in);            // [G, m, in]
            NDArray d = xg.matMul(a).matMul(b);                                              // [G, m, out]
            d = d.reshape(groups * m, d.getShape().get(2)).get(new NDIndex("{}", inverse)); // [T, out]
            return mask == null ? d : d.mul(mask);
        }

        private NDArray weights(NDManager step, NDArray stack) {
            NDArray w = present == null ? stack.get(new NDIndex("0:{}", groups)) : stack.get(new NDIndex("{}", present));
            w.attach(step);
            return w;
        }
    }

    private final class StepAdapters implements AdapterBatch {
        private final NDManager step;
        private final List<LoraGroup> groups;
        private final NDArray doraIdx;
        private final ExpertOverride experts;

        StepAdapters(NDManager step, List<LoraGroup> groups, NDArray doraIdx, ExpertOverride experts) {
            this.step = step;
            this.groups = groups;
            this.doraIdx = doraIdx;
            this.experts = experts;
        }

        @Override
        public NDArray apply(Site site, int layer, NDArray x, NDArray y) {
            for (LoraGroup g : groups) {
                if (g.sites.contains(site)) {
                    y = y.add(g.delta(step, site, layer, x));
                }
            }
            if (doraIdx != null && doraTables[layer][site.ordinal()] != null) {
                NDArray scale = doraTables[layer][site.ordinal()].get(new NDIndex("{}", doraIdx));
                scale.attach(step);
                y = y.mul(scale);
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
