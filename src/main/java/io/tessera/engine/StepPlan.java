package io.tessera.engine;

import io.tessera.engine.AttentionPolicy.LmInfinite;
import java.util.Arrays;
import java.util.List;

/**
 * Everything about one engine step that is decided in plain Java: token layout, positions, KV writes and the
 * attention mask. The forward pass only turns these arrays into NDArray indices.
 *
 * <p>Layouts. New tokens are <em>packed</em>: rows of all sequences one after another, T rows in all. Attention
 * works on a <em>padded</em> view [B, Qmax] where B = highest slot + 1, because the KV cache is one tensor per
 * layer indexed by slot, so slots 0..B-1 can be read as a view without copying.
 *
 * <p>Attention columns come in up to three parts, concatenated in this order:
 * <ol>
 *   <li>G — the global entries 0..G-1 of LM-Infinite slots (unrotated keys; the query is rotated by
 *       min(D, p) instead of p). Present when some LM-Infinite query is at least L past a global key.</li>
 *   <li>K — the cache view [0, kv) of every slot (rotated keys), written before attention.</li>
 *   <li>N — this step's own new keys, for LM-Infinite rows prefilling more than one token: their ring
 *       entries are written only after attention, since a chunk would overwrite keys its own earlier
 *       queries still need.</li>
 * </ol>
 */
public final class StepPlan {
    /** Finite, so a fully masked padding row softmaxes to garbage instead of NaN. */
    static final float MASKED = -1e30f;

    /** One sequence's part of the step. start = positions already in its cache (virtual tokens included). */
    public record Row(int slot, int start, int qLen, AttentionPolicy policy) {
    }

    public final int batch;          // B
    public final int qMax;
    public final int tokens;         // T
    public final int globals;        // width of part G (0 when absent)
    public final int kvCols;         // width of part K
    public final int newCols;        // width of part N (0 or qMax)
    public final long[] positions;   // [T] RoPE position of each packed row
    public final long[] globalPositions; // [T] min(D, p) for LM-Infinite rows (else p); used when globals > 0
    public final long[] padIndex;    // [B*qMax] packed row for each padded row (0 for padding)
    public final long[] unpadIndex;  // [T] padded row of each packed row
    public final boolean packedIsPadded;
    public final Writes before;      // rotated keys written before attention
    public final Writes globalsBefore; // unrotated keys of LM-Infinite tokens 0..G-1
    public final Writes after;       // ring entries of LM-Infinite chunks, written after attention
    public final float[] mask;       // [B, qMax, globals + kvCols + newCols]
    public final int[] rowStart;     // packed offset of each input row

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

    public StepPlan(List<Row> rows, int cacheCapacity) {
        int b = 0, q = 1, t = 0, g = 0, kv = 1;
        boolean chunkedLmInf = false;
        rowStart = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            rowStart[i] = t;
            b = Math.max(b, r.slot() + 1);
            q = Math.max(q, r.qLen());
            t += r.qLen();
            int end = r.start() + r.qLen();
            if (r.policy() instanceof LmInfinite li) {
                if (li.cacheEntries() > cacheCapacity) {
                    throw new IllegalStateException("lm-infinite needs " + li.cacheEntries() + " KV entries, capacity is " + cacheCapacity);
                }
                boolean deferred = r.qLen() > 1;
                int ringFilled = Math.min(li.nLocal(), deferred ? r.start() : end);
                kv = Math.max(kv, li.nGlobal() + ringFilled);
                chunkedLmInf |= deferred;
                if (end - 1 >= li.nLocal() && li.nGlobal() > 0) {
                    g = Math.max(g, li.nGlobal());
                }
            } else {
                if (end > cacheCapacity) {
                    throw new IllegalStateException("sequence needs " + end + " KV entries, capacity is " + cacheCapacity);
                }
                kv = Math.max(kv, end);
            }
        }
        batch = b;
        qMax = q;
        tokens = t;
        globals = g;
        kvCols = kv;
        newCols = chunkedLmInf ? qMax : 0;
        positions = new long[t];
        globalPositions = new long[t];
        padIndex = new long[b * qMax];
        unpadIndex = new long[t];
        int cols = globals + kvCols + newCols;
        mask = new float[b * qMax * cols];
        Arrays.fill(mask, MASKED);
        int[] wb = new int[3 * t], wg = new int[3 * t], wa = new int[3 * t];
        int nb = 0, ng = 0, na = 0;
        boolean identity = t == b * qMax;
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            LmInfinite li = r.policy() instanceof LmInfinite l ? l : null;
            boolean deferred = li != null && r.qLen() > 1;
            for (int k = 0; k < r.qLen(); k++) {
                int row = rowStart[i] + k;
                int p = r.start() + k;
                int padded = r.slot() * qMax + k;
                identity &= padded == row;
                positions[row] = p;
                globalPositions[row] = li == null ? p : Math.min(li.maxDistance(), p);
                padIndex[padded] = row;
                unpadIndex[row] = padded;
                if (li == null) {
                    nb = put(wb, nb, row, r.slot(), p);
                } else {
                    if (p < li.nGlobal()) {
                        ng = put(wg, ng, row, r.slot(), p);
                    }
                    int ring = li.nGlobal() + p % li.nLocal();
                    int end = r.start() + r.qLen();
                    if (!deferred) {
                        nb = put(wb, nb, row, r.slot(), ring);
                    } else if (p >= end - li.nLocal()) {
                        // only the chunk's last L tokens survive in the ring; earlier ones would be overwritten
                        na = put(wa, na, row, r.slot(), ring);
                    }
                }
                fillMask(r, li, deferred, k, (r.slot() * qMax + k) * cols, cols);
            }
        }
        packedIsPadded = identity;
        before = Writes.of(wb, nb);
        globalsBefore = Writes.of(wg, ng);
        after = Writes.of(wa, na);
    }

    private static int put(int[] buf, int n, int row, int slot, int entry) {
        buf[3 * n] = row;
        buf[3 * n + 1] = slot;
        buf[3 * n + 2] = entry;
        return n + 1;
    }

    private void fillMask(Row r, LmInfinite li, boolean deferred, int k, int base, int cols) {
        int p = r.start() + k;
        if (li == null) {
            for (int c = 0; c <= p; c++) {
                mask[base + globals + c] = 0f;
            }
            return;
        }
        int gCount = li.nGlobal(), l = li.nLocal();
        // G: global keys at least L behind the query
        for (int c = 0; c < Math.min(globals, gCount); c++) {
            if (p - c >= l) {
                mask[base + c] = 0f;
            }
        }
        // K: ring entries hold, for residue r, the latest position written so far
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

    public int columns() {
        return globals + kvCols + newCols;
    }
}
