package io.tessera.engine.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.tessera.engine.Rows;
import io.tessera.engine.Site;
import io.tessera.engine.Views;
import java.util.Arrays;
import java.util.BitSet;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One rank bucket's rows in a step, grouped by slot into [groups, m] (m = most rows of one adapter), applied with one
 * batched matmul pair per site whatever the number of adapters (the S-LoRA / Punica idea). When most of the
 * bucket's slots are present the groups are the slots themselves and the weights are read as a view; otherwise the
 * present slots' weights are gathered, so idle residents cost nothing. When every row of the step uses one slot
 * there is nothing to group: y + (x A) B as two plain matmuls, the add inside the second.
 */
final class LoraGroup {
    private final RankBucket bucket;
    private final RankBucket.SingleWeights single;   // every row on one slot; null: grouped
    private final NDArray grouped;    // [groups, m] packed row per grouped position
    private final NDArray back;       // [T] grouped position (group * m + position) per packed row
    private final NDManager step;
    private final Map<Integer, NDArray> backChunks = new HashMap<>();  // chunks -> [T, chunks] rows of [groups * chunks * m, width]
    private final int groups;
    private final int m;
    private final int t;
    private final long[] gi;
    private final long[] pi;
    private final NDArray keep;       // [T, 1] boolean, false for rows outside this bucket; null when every row is in it
    private final NDArray zero;
    private final RankBucket.SlotWeights weights;
    final EnumSet<Site> sites = EnumSet.noneOf(Site.class);

    /** @param rows {packed row, slot} of the bucket's rows */
    LoraGroup(NDManager step, RankBucket bucket, List<int[]> rows, int t, DataType dtype) {
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
        for (int s = slots.nextSetBit(0); s >= 0; s = slots.nextSetBit(s + 1)) {
            sites.addAll(bucket.sites(s));
        }
        this.m = Arrays.stream(count).max().orElse(1);
        this.gi = new long[t];
        this.pi = new long[t];
        if (slots.cardinality() == 1 && rows.size() == t) {
            this.single = bucket.single(slots.nextSetBit(0));
            this.weights = null;
            this.groups = 1;
            this.grouped = null;
            this.back = null;
            this.keep = null;
            this.zero = null;
            return;
        }
        this.single = null;
        this.weights = bucket.weights(slots);
        int[] groupOf = weights.position();
        this.groups = weights.count();
        long[] gat = new long[groups * m];
        boolean[] msk = rows.size() < t ? new boolean[t] : null;
        int[] fill = new int[groupOf.length];
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
        this.zero = msk == null ? null : step.zeros(new Shape(), dtype);
    }

    /** y [T, out] plus what the bucket's adapters add to the site's output (nothing for rows outside the bucket). */
    NDArray apply(Site site, int layer, NDArray x, NDArray y) {
        int si = site.ordinal();
        if (single != null) {
            // [T, in] x A -> [T, chunks * r], then y + h B in one addmm
            return Views.linear(x.matMul(single.a()[layer][si]), single.bT()[layer][si], y);
        }
        return y.add(delta(si, layer, x));
    }

    /** [T, out] the bucket's adapters add to the site's output, zero for rows outside the bucket. */
    private NDArray delta(int si, int layer, NDArray x) {
        SiteLayout layout = bucket.layouts[si];
        int chunks = layout.chunks();
        // Gathers land in the step's manager and the product in the cached weights': move both into x's scope (a
        // layer's), and with them all that is computed from them below, so a prefill holds one layer's deltas
        NDManager scope = x.getManager();
        NDArray xg = Rows.select(x, grouped);
        xg.attach(scope);
        // A^T x^T reads A row by row: measurably faster than x A for these skinny products
        NDArray hT = weights.a()[layer][si].matMul(xg.transpose(0, 2, 1));      // [groups, chunks * r, m]
        hT.attach(scope);
        NDArray d;
        if (chunks == 1) {
            d = Rows.select(hT.transpose(0, 2, 1).matMul(weights.b()[layer][si]).reshape(groups * m, -1), back);  // [T, out]
        } else {
            NDArray h = hT.reshape(groups, chunks, layout.rank(), m).transpose(0, 1, 3, 2);      // [groups, chunks, m, r]
            NDArray all = h.matMul(weights.b()[layer][si]).reshape(-1, layout.width());           // [groups * chunks * m, width]
            d = Rows.select(all, backChunks(chunks)).reshape(t, (long) chunks * layout.width());   // [T, chunks, width] -> [T, out]
        }
        d.attach(scope);
        // rows outside the bucket got another row's product (position 0): replace it, never multiply it by 0,
        // or a non-finite product of one tenant would reach another's row (NaN * 0 = NaN)
        if (keep == null) {
            return d;
        }
        NDArray kept = NDArrays.where(keep.broadcast(d.getShape()), d, zero);
        kept.attach(scope);
        return kept;
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
