package io.tessera.engine;

import io.tessera.engine.AttentionPolicy.LmInfinite;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Everything about one engine step that is decided in plain Java: token layout, positions, KV writes and the
 * attention masks. The forward pass only turns these arrays into NDArray indices.
 *
 * <p>New tokens are <em>packed</em>: rows of all sequences one after another, T rows in all. Attention works on
 * padded {@link Layout}s [B, Qmax]. Decode rows (one token) form one layout over slots 0..B-1, read from the KV
 * cache as a view without copying (slots are dense). When prompt chunks share the step, they get a second layout
 * over just their slots (gathered), so a chunk of 32 tokens does not pad every decode row to 32 queries.
 */
public final class StepPlan {
    /** Finite, so a fully masked padding row softmaxes to garbage instead of NaN. */
    static final float MASKED = -1e30f;

    /** One sequence's part of the step. start = positions already in its cache (virtual tokens included). */
    public record Row(int slot, int start, int qLen, AttentionPolicy policy) {
    }

    /** Cache writes: packed row -> (slot, entry). */
    public record Writes(long[] rows, long[] slots, long[] entries) {
        static Writes of(int[] buf, int n) {
            long[] r = new long[n], s = new long[n], e = new long[n];
            for (int i = 0; i < n; i++) {
                r[i] = buf[3 * i];
                s[i] = buf[3 * i + 1];
                e[i] = buf[3 * i + 2];
            }
            return new Writes(r, s, e);
        }

        public int size() {
            return rows.length;
        }
    }

    public final int tokens;         // T
    public final long[] positions;   // [T] RoPE position of each packed row
    public final long[] globalPositions; // [T] min(D, p) for LM-Infinite rows (else p)
    public final int[] rowStart;     // packed offset of each input row
    public final Writes before;      // rotated keys written before attention
    public final Writes globalsBefore; // unrotated keys of LM-Infinite tokens 0..G-1
    public final Writes after;       // ring entries of LM-Infinite chunks, written after attention
    public final List<Layout> layouts;
    public final long[] unpadIndex;  // [T] row of the layouts' padded outputs, concatenated, for each packed row
    public final boolean packedIsPadded; // one layout whose padded rows are the packed rows in order

    public StepPlan(List<Row> rows, int cacheCapacity) {
        int t = 0;
        rowStart = new int[rows.size()];
        boolean anyDecode = false;
        boolean anyChunk = false;
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            rowStart[i] = t;
            t += r.qLen();
            anyDecode |= r.qLen() == 1;
            anyChunk |= r.qLen() > 1;
            checkCapacity(r, cacheCapacity);
        }
        tokens = t;
        positions = new long[t];
        globalPositions = new long[t];
        int[] wb = new int[3 * t], wg = new int[3 * t], wa = new int[3 * t];
        int nb = 0, ng = 0, na = 0;
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            LmInfinite li = r.policy() instanceof LmInfinite l ? l : null;
            int end = r.start() + r.qLen();
            for (int k = 0; k < r.qLen(); k++) {
                int row = rowStart[i] + k;
                int p = r.start() + k;
                positions[row] = p;
                globalPositions[row] = li == null ? p : Math.min(li.maxDistance(), p);
                if (li == null) {
                    nb = put(wb, nb, row, r.slot(), p);
                    continue;
                }
                if (p < li.nGlobal()) {
                    ng = put(wg, ng, row, r.slot(), p);
                }
                int ring = li.nGlobal() + p % li.nLocal();
                if (r.qLen() == 1) {
                    nb = put(wb, nb, row, r.slot(), ring);
                } else if (p >= end - li.nLocal()) {
                    // a chunk writes its ring entries after attention, and only its last L tokens survive there
                    na = put(wa, na, row, r.slot(), ring);
                }
            }
        }
        before = Writes.of(wb, nb);
        globalsBefore = Writes.of(wg, ng);
        after = Writes.of(wa, na);
        layouts = new ArrayList<>(2);
        unpadIndex = new long[t];
        if (anyDecode && anyChunk) {
            layouts.add(new Layout(rows, i -> rows.get(i).qLen() == 1, false, 0));
            Layout first = layouts.get(0);
            layouts.add(new Layout(rows, i -> rows.get(i).qLen() > 1, true, first.batch * first.qMax));
        } else {
            layouts.add(new Layout(rows, i -> true, false, 0));
        }
        boolean identity = layouts.size() == 1;
        for (int row = 0; row < t && identity; row++) {
            identity = unpadIndex[row] == row;
        }
        Layout only = layouts.get(0);
        packedIsPadded = identity && only.batch * only.qMax == t;
    }

    private static void checkCapacity(Row r, int capacity) {
        if (r.policy() instanceof LmInfinite li) {
            if (li.cacheEntries() > capacity) {
                throw new IllegalStateException("lm-infinite needs " + li.cacheEntries() + " KV entries, capacity is " + capacity);
            }
        } else if (r.start() + r.qLen() > capacity) {
            throw new IllegalStateException("sequence needs " + (r.start() + r.qLen()) + " KV entries, capacity is " + capacity);
        }
    }

    private static int put(int[] buf, int n, int row, int slot, int entry) {
        buf[3 * n] = row;
        buf[3 * n + 1] = slot;
        buf[3 * n + 2] = entry;
        return n + 1;
    }

    /**
     * One padded attention layout [batch, qMax] over some of the step's rows. Columns come in up to three parts,
     * concatenated in this order:
     * <ol>
     *   <li>G — the global entries 0..G-1 of LM-Infinite slots (unrotated keys; the query is rotated by
     *       min(D, p) instead of p). Present when some LM-Infinite query is at least L past a global key.</li>
     *   <li>K — the cache entries [0, kvCols) of each slot (rotated keys), written before attention.</li>
     *   <li>N — the rows' own new keys, for LM-Infinite chunks: their ring entries are written only after
     *       attention, since a chunk would overwrite keys its own earlier queries still need.</li>
     * </ol>
     */
    public final class Layout {
        public final int batch;
        /** Slot of each padded batch row, or null: padded row b is slot b (a view of slots 0..batch-1). */
        public final long[] slots;
        public final int qMax;
        public final int globals;
        public final int kvCols;
        public final int newCols;
        /**
         * [batch * qMax] packed row of each padded row. A row's padding repeats its own first token: LM-Infinite
         * chunks attend to the padded new keys (masked, yet multiplied), which must not be another sequence's.
         * Padding batch rows (slots not in the layout) take row 0; their outputs are dropped.
         */
        public final long[] padIndex;
        public final float[] mask;     // [batch, qMax, columns]

        Layout(List<Row> rows, java.util.function.IntPredicate member, boolean gathered, int offset) {
            int b = 0, q = 1, g = 0, kv = 1;
            boolean chunkedLmInf = false;
            List<Integer> mine = new ArrayList<>();
            for (int i = 0; i < rows.size(); i++) {
                if (!member.test(i)) {
                    continue;
                }
                Row r = rows.get(i);
                mine.add(i);
                b = gathered ? b + 1 : Math.max(b, r.slot() + 1);
                q = Math.max(q, r.qLen());
                int end = r.start() + r.qLen();
                if (r.policy() instanceof LmInfinite li) {
                    boolean deferred = r.qLen() > 1;
                    kv = Math.max(kv, li.nGlobal() + Math.min(li.nLocal(), deferred ? r.start() : end));
                    chunkedLmInf |= deferred;
                    if (end - 1 >= li.nLocal() && li.nGlobal() > 0) {
                        g = Math.max(g, li.nGlobal());
                    }
                } else {
                    kv = Math.max(kv, end);
                }
            }
            batch = b;
            qMax = q;
            globals = g;
            kvCols = kv;
            newCols = chunkedLmInf ? qMax : 0;
            slots = gathered ? new long[b] : null;
            padIndex = new long[b * qMax];
            int cols = columns();
            mask = new float[b * qMax * cols];
            Arrays.fill(mask, MASKED);
            for (int n = 0; n < mine.size(); n++) {
                int i = mine.get(n);
                Row r = rows.get(i);
                int pb = gathered ? n : r.slot();
                if (gathered) {
                    slots[n] = r.slot();
                }
                for (int k = 0; k < qMax; k++) {
                    int padded = pb * qMax + k;
                    padIndex[padded] = rowStart[i] + (k < r.qLen() ? k : 0);
                    if (k < r.qLen()) {
                        unpadIndex[rowStart[i] + k] = offset + padded;
                        fillMask(r, k, padded * cols);
                    }
                }
            }
        }

        public int columns() {
            return globals + kvCols + newCols;
        }

        private void fillMask(Row r, int k, int base) {
            int p = r.start() + k;
            if (!(r.policy() instanceof LmInfinite li)) {
                for (int c = 0; c <= p; c++) {
                    mask[base + globals + c] = 0f;
                }
                return;
            }
            boolean deferred = r.qLen() > 1;
            int gCount = li.nGlobal(), l = li.nLocal();
            // G: global keys at least L behind the query
            for (int c = 0; c < Math.min(globals, gCount); c++) {
                if (p - c >= l) {
                    mask[base + c] = 0f;
                }
            }
            // K: ring entries hold, for residue e, the latest position written so far
            int latest = deferred ? r.start() - 1 : p;
            for (int e = 0; e < l && gCount + e < kvCols; e++) {
                int j = latest - Math.floorMod(latest - e, l);
                if (j >= 0 && p - j < l) {
                    mask[base + globals + gCount + e] = 0f;
                }
            }
            // N: this chunk's own keys, within the local window
            if (deferred) {
                for (int n = 0; n <= k; n++) {
                    if (k - n < l) {
                        mask[base + globals + kvCols + n] = 0f;
                    }
                }
            }
        }
    }
}
