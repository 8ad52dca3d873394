package io.tessera.engine.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.tessera.engine.Rows;
import io.tessera.engine.Site;
import io.tessera.engine.Tensors;
import java.util.Arrays;
import java.util.BitSet;
import java.util.EnumSet;

/**
 * The LoRA slots of one rank bucket: per site, A and B of every layer and slot in one [layers, slots, ...] stack (see
 * {@link SiteLayout}), s folded into B, read per layer through views; one install or reset is one copy per stack.
 * On CPU the stacks are made for the residency budget's worth of slots at once and left unwritten (address space:
 * pages are touched as slots fill), so installs never copy the stacks; past it (pinned or held adapters) and on a
 * GPU they double when full. Slots from the highest used one up are never read; a freed slot is zeroed, so every
 * slot below it holds an adapter or zeros.
 */
final class RankBucket {
    /** Slots reserved up front at most, whatever the budget. */
    private static final int MAX_RESERVED_SLOTS = 1 << 14;
    private final LoraSites geo;
    private final NDManager manager;
    final int rank;
    final SiteLayout[] layouts = new SiteLayout[LoraSites.SITE_COUNT];
    private final BitSet used = new BitSet();
    private final NDArray[] aStack = new NDArray[LoraSites.SITE_COUNT];
    private final NDArray[] bStack = new NDArray[LoraSites.SITE_COUNT];
    private final NDArray[][] a;   // [layer][site]: views of the stacks
    private final NDArray[][] b;
    private EnumSet<Site>[] sites;   // per slot: the sites its adapter targets
    private int capacity;
    // bumped whenever slot contents or the stacks change; a cached SingleWeights of another version is stale
    private int version;
    // a clock of writes: when each slot was last installed or reset, and when the stacks last moved (grew)
    private long clock;
    private long[] writtenAt;
    private long movedAt;
    private SlotWeights cached;
    private SingleWeights single;

    /**
     * A bucket's A and B stacks [layer][site] restricted to some slots: views of the stacks over slots 0..count-1, or
     * copies gathered at {@code takenAt}. {@code position[slot]} is the slot's group, -1 when it is not there.
     */
    record SlotWeights(boolean view, long takenAt, int[] position, int count, NDManager manager, NDArray[][] a, NDArray[][] b) {
    }

    /**
     * One slot's weights as plain matrices for a step whose rows all use it: A [in, modules * rank] and B as linear's
     * weight view [out, modules * rank] of the [modules * rank, out] matrix, each module's block in its own columns.
     * With one chunk, both are views of the stack; with several, copies with each module's A once (the stack repeats
     * it per chunk) and zeros off the modules' blocks of B.
     */
    record SingleWeights(int slot, int version, NDManager manager, NDArray[][] a, NDArray[][] bT) {
    }

    @SuppressWarnings("unchecked")
    RankBucket(LoraSites geo, NDManager manager, int rank, long budgetBytes) {
        this.geo = geo;
        this.manager = manager;
        this.rank = rank;
        // a GPU allocation is memory, not address space: there the stacks grow with use
        long reserve = manager.getDevice().isGpu() ? 0 : budgetBytes / slotBytes(geo, rank);
        this.capacity = (int) Math.max(4, Math.min(reserve, MAX_RESERVED_SLOTS));
        this.sites = new EnumSet[capacity];
        this.writtenAt = new long[capacity];
        this.a = new NDArray[geo.layers()][LoraSites.SITE_COUNT];
        this.b = new NDArray[geo.layers()][LoraSites.SITE_COUNT];
        for (Site site : geo.sites()) {
            layouts[site.ordinal()] = geo.layout(site, rank);
        }
        for (Site site : geo.sites()) {
            int si = site.ordinal();
            aStack[si] = manager.create(layers(layouts[si].aShape(capacity)), geo.model().dtype());
            bStack[si] = manager.create(layers(layouts[si].bShape(capacity)), geo.model().dtype());
        }
        layerViews();
    }

    private Shape layers(Shape perLayer) {
        return new Shape(geo.layers()).addAll(perLayer);
    }

    private void layerViews() {
        for (int l = 0; l < geo.layers(); l++) {
            for (Site site : geo.sites()) {
                int si = site.ordinal();
                a[l][si] = aStack[si].get(l);
                b[l][si] = bStack[si].get(l);
            }
        }
    }

    /** The rank bucket of an adapter: its largest rank rounded up to a power of two, at least 8. */
    static int rankOf(int maxRank) {
        return Math.max(8, Integer.highestOneBit(maxRank - 1) << 1);
    }

    /** Engine bytes one slot of a bucket of this rank takes, over all layers and sites. */
    static long slotBytes(LoraSites geo, int rank) {
        long elements = 0;
        for (Site site : geo.sites()) {
            SiteLayout layout = geo.layout(site, rank);
            elements += layout.aShape(1).size() + layout.bShape(1).size();
        }
        return elements * geo.layers() * geo.model().dtype().getNumOfBytes();
    }

    /** Copies the adapter into a free slot, growing the stacks when none is free. */
    int install(LoraAdapter lora) {
        int slot = used.nextClearBit(0);
        if (slot >= capacity) {
            grow(capacity * 2);
        }
        used.set(slot);
        for (Site site : geo.sites()) {
            int si = site.ordinal();
            SiteLayout layout = layouts[si];
            float[][] ab = hostSlot(lora, site, layout);
            NDIndex at = new NDIndex(":, {}:{}", slot, slot + 1);
            try (NDArray ha = Tensors.create(manager, ab[0], layers(layout.aShape(1)), geo.model().dtype());
                 NDArray hb = Tensors.create(manager, ab[1], layers(layout.bShape(1)), geo.model().dtype())) {
                aStack[si].set(at, ha);
                bStack[si].set(at, hb);
            }
        }
        EnumSet<Site> targeted = EnumSet.noneOf(Site.class);
        lora.modules().values().forEach(m -> targeted.add(Site.of(m.name())));
        sites[slot] = targeted;
        version++;
        writtenAt[slot] = ++clock;
        return slot;
    }

    /** Zeroes the slot (vLLM's reset_lora) and frees it. */
    void reset(int slot) {
        // set(index, Number) would leave its scalar in the bucket's manager: one per call, never freed
        try (NDArray zero = manager.zeros(new Shape(), geo.model().dtype())) {
            NDIndex at = new NDIndex(":, {}", slot);
            for (Site site : geo.sites()) {
                aStack[site.ordinal()].set(at, zero);
                bStack[site.ordinal()].set(at, zero);
            }
        }
        sites[slot] = null;
        used.clear(slot);
        version++;
        writtenAt[slot] = ++clock;
    }

    /** Whether every weight of the slot is zero (tests: a freed slot keeps nothing). */
    boolean isZero(int slot) {
        for (int l = 0; l < geo.layers(); l++) {
            for (Site site : geo.sites()) {
                for (NDArray t : new NDArray[] {a[l][site.ordinal()], b[l][site.ordinal()]}) {
                    try (NDArray s = t.get(new NDIndex("{}", slot)); NDArray nz = s.countNonzero()) {
                        if (nz.getLong() != 0) {
                            return false;
                        }
                    }
                }
            }
        }
        return true;
    }

    EnumSet<Site> sites(int slot) {
        return sites[slot];
    }

    /**
     * A^T [layers, chunks * rank, in] and B [layers, chunks, rank, width] of one site, zero where a module is not
     * targeted.
     */
    private float[][] hostSlot(LoraAdapter lora, Site site, SiteLayout layout) {
        int in = geo.in(site);
        int width = layout.width();
        int aSize = layout.chunks() * layout.rank() * in;
        int bSize = layout.chunks() * layout.rank() * width;
        float[] ha = new float[geo.layers() * aSize];
        float[] hb = new float[geo.layers() * bSize];
        for (int l = 0; l < geo.layers(); l++) {
            hostSlot(lora, l, site, layout, ha, l * aSize, hb, l * bSize);
        }
        return new float[][] {ha, hb};
    }

    /** One layer's part of {@link #hostSlot(LoraAdapter, Site, SiteLayout)}, at offsets {@code ao} and {@code bo}. */
    private void hostSlot(LoraAdapter lora, int layer, Site site, SiteLayout layout, float[] ha, int ao, float[] hb, int bo) {
        int in = geo.in(site);
        int width = layout.width();
        for (int j = 0; j < site.modules.size(); j++) {
            LoraAdapter.Module m = lora.modules().get(LoraAdapter.key(layer, site.modules.get(j)));
            if (m == null) {
                continue;
            }
            int[] range = geo.model().outputRange(site, m.name());
            // one chunk holding every module's rank block side by side, or the module's own chunks
            int rankOffset = layout.chunks() == 1 ? j * layout.rank() / site.modules.size() : 0;
            for (int chunk = range[0] / width; chunk < range[1] / width; chunk++) {
                for (int k = 0; k < m.rank(); k++) {
                    int col = chunk * layout.rank() + rankOffset + k;
                    System.arraycopy(m.a(), k * in, ha, ao + col * in, in);
                    int from = Math.max(range[0], chunk * width);
                    int to = Math.min(range[1], (chunk + 1) * width);
                    for (int o = from; o < to; o++) {
                        hb[bo + col * width + o - chunk * width] = m.scale() * m.b()[(o - range[0]) * m.rank() + k];
                    }
                }
            }
        }
    }

    private void grow(int newCapacity) {
        for (int l = 0; l < geo.layers(); l++) {
            for (Site site : geo.sites()) {
                a[l][site.ordinal()].close();
                b[l][site.ordinal()].close();
            }
        }
        for (Site site : geo.sites()) {
            int si = site.ordinal();
            aStack[si] = grown(aStack[si], newCapacity);
            bStack[si] = grown(bStack[si], newCapacity);
        }
        layerViews();
        sites = Arrays.copyOf(sites, newCapacity);
        writtenAt = Arrays.copyOf(writtenAt, newCapacity);
        capacity = newCapacity;
        version++;
        movedAt = ++clock;
    }

    private NDArray grown(NDArray t, int newCapacity) {
        long[] shape = t.getShape().getShape();
        shape[1] = newCapacity;
        NDArray g = manager.create(new Shape(shape), geo.model().dtype());
        g.set(new NDIndex(":, 0:{}", capacity), t);
        t.close();
        return g;
    }

    /**
     * The stacks of a step's slots: views of slots 0..highest used when the step uses at least half of them, else
     * copies of its slots. Kept while they still hold every slot a step needs, unchanged, and are at most twice what
     * it needs: batches change a row at a time, and a step whose slots are a subset of the last one's pays only for
     * its activations, not for gathering the weights again.
     */
    SlotWeights weights(BitSet slots) {
        int needed = slots.cardinality();
        if (cached != null && holds(cached, slots, needed)) {
            return cached;
        }
        if (cached != null) {
            cached.manager().close();
        }
        int hi = highestUsed();
        boolean view = needed * 2 >= hi;
        int[] position = new int[hi];
        Arrays.fill(position, -1);
        int count = 0;
        for (int s = view ? 0 : slots.nextSetBit(0); s >= 0 && s < hi; s = view ? s + 1 : slots.nextSetBit(s + 1)) {
            position[s] = count++;
        }
        NDManager m = manager.newSubManager();
        NDArray gather = view ? null : m.create(slots.stream().asLongStream().toArray());
        NDIndex index = view ? new NDIndex("0:{}", hi) : new NDIndex("{}", gather);
        NDArray[][] wa = new NDArray[geo.layers()][LoraSites.SITE_COUNT];
        NDArray[][] wb = new NDArray[geo.layers()][LoraSites.SITE_COUNT];
        for (int l = 0; l < geo.layers(); l++) {
            for (Site site : geo.sites()) {
                int si = site.ordinal();
                wa[l][si] = a[l][si].get(index);
                wb[l][si] = b[l][si].get(index);
                wa[l][si].attach(m);
                wb[l][si].attach(m);
            }
        }
        // the index is spent: closed, a cached view and a cached gather hold the same arrays (steady live counts)
        if (gather != null) {
            gather.close();
        }
        cached = new SlotWeights(view, clock, position, count, m, wa, wb);
        return cached;
    }

    /** Whether the weights hold each slot as it is now, without reading more than twice the slots needed. */
    private boolean holds(SlotWeights w, BitSet slots, int needed) {
        // views see every write, but not stacks that have moved; copies see no write after they were taken
        if (w.count() > 2 * needed || w.view() && movedAt > w.takenAt()) {
            return false;
        }
        for (int s = slots.nextSetBit(0); s >= 0; s = slots.nextSetBit(s + 1)) {
            if (s >= w.position().length || w.position()[s] < 0 || !w.view() && writtenAt[s] > w.takenAt()) {
                return false;
            }
        }
        return true;
    }

    /** {@link SingleWeights} of one slot, kept while its contents and the stacks are unchanged. */
    SingleWeights single(int slot) {
        if (single != null && single.version() == version && single.slot() == slot) {
            return single;
        }
        if (single != null) {
            single.manager().close();
        }
        NDManager m = manager.newSubManager();
        NDArray[][] wa = new NDArray[geo.layers()][LoraSites.SITE_COUNT];
        NDArray[][] wbT = new NDArray[geo.layers()][LoraSites.SITE_COUNT];
        for (Site site : geo.sites()) {
            int si = site.ordinal();
            SiteLayout layout = layouts[si];
            int c = layout.chunks();
            int r = layout.rank();
            // a module spanning several chunks has its A repeated in each: keep its first, and let that block of B
            // feed all of the module's chunks. owner [modules, 1, c, 1] (1 where module j owns chunk k) times B as
            // [1, r, c, width] = [modules, r, c, width]: the modules' B in their own columns, zeros elsewhere
            int[] firstChunk = c == 1 ? null : firstChunks(site, layout);
            int mods = c == 1 ? 1 : firstChunk.length;
            NDArray owner = c == 1 ? null : Tensors.create(m, owners(site, layout), new Shape(mods, 1, c, 1), geo.model().dtype());
            NDArray firsts = c == 1 ? null : m.create(Arrays.stream(firstChunk).asLongStream().toArray());
            for (int l = 0; l < geo.layers(); l++) {
                NDArray as = a[l][si].get(new NDIndex("{}", slot));
                NDArray bs = b[l][si].get(new NDIndex("{}", slot));
                as.attach(m);
                bs.attach(m);
                if (c > 1) {
                    as = Rows.select(as.reshape(c, (long) r * layout.in()), firsts).reshape((long) mods * r, layout.in());
                    bs = owner.mul(bs.transpose(1, 0, 2).reshape(1, r, c, layout.width())).reshape((long) mods * r, -1);
                }
                wa[l][si] = as.transpose();
                wbT[l][si] = bs.transpose();
            }
        }
        single = new SingleWeights(slot, version, m, wa, wbT);
        return single;
    }

    /** Per module of the site, the first of its chunks. */
    private int[] firstChunks(Site site, SiteLayout layout) {
        return site.modules.stream().mapToInt(mod -> geo.model().outputRange(site, mod)[0] / layout.width()).toArray();
    }

    /** [modules, chunks] 1 where the module's outputs hold the chunk. */
    private float[] owners(Site site, SiteLayout layout) {
        int c = layout.chunks();
        float[] own = new float[site.modules.size() * c];
        for (int j = 0; j < site.modules.size(); j++) {
            int[] range = geo.model().outputRange(site, site.modules.get(j));
            for (int k = range[0] / layout.width(); k < range[1] / layout.width(); k++) {
                own[j * c + k] = 1;
            }
        }
        return own;
    }

    int highestUsed() {
        return used.length();
    }
}
