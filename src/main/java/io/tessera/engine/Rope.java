package io.tessera.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embedding, half-split (HF {@code rotate_half}), applied to a whole [T, heads, D] projection in
 * four ops: x * C + (x R) * S, with R the signed half swap [D, D] (entries 0 and ±1, so x R is exact) and per-step
 * tables C, S [T, heads, D] built on the host. The tables also scale the query heads by 1/sqrt(D) (the attention
 * scale costs no op of its own) and pass the value heads through (C = 1, S = 0), so one result holds q, k and v.
 * cos/sin rows grow by doubling, since LM-Infinite positions have no upper bound.
 */
final class Rope {
    /** Heads of the projection in order: q (rotated and scaled), k (rotated), v (unchanged). */
    record Heads(int q, int k, int v, float qScale) {
        int total() {
            return q + k + v;
        }
    }

    private final int half;
    private final double[] invFreq;
    private final DataType dtype;
    private final Heads heads;
    private final NDArray rotation;   // [D, D]
    private float[] cos;               // [P, half]
    private float[] sin;
    private int capacity;

    Rope(NDManager manager, int headDim, double theta, int initialPositions, DataType dtype, Heads heads) {
        this.half = headDim / 2;
        this.dtype = dtype;
        this.heads = heads;
        this.invFreq = new double[half];
        for (int i = 0; i < half; i++) {
            invFreq[i] = Math.pow(theta, -2.0 * i / headDim);
        }
        float[] r = new float[headDim * headDim];
        for (int i = 0; i < half; i++) {
            r[(i + half) * headDim + i] = -1;     // out[i] = -x[i + half]
            r[i * headDim + i + half] = 1;        // out[i + half] = x[i]
        }
        this.rotation = Tensors.create(manager, r, new Shape(headDim, headDim), dtype);
        grow(initialPositions);
    }

    private void grow(int positions) {
        cos = new float[positions * half];
        sin = new float[positions * half];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                double a = p * invFreq[i];
                cos[p * half + i] = (float) Math.cos(a);
                sin[p * half + i] = (float) Math.sin(a);
            }
        }
        capacity = positions;
    }

    /** C and S [T, heads, D] for the rows' positions, in the step's scope. */
    NDArray[] tables(NDManager step, long[] positions) {
        long max = 0;
        for (long p : positions) {
            max = Math.max(max, p);
        }
        if (max >= capacity) {
            grow((int) Math.max(2L * capacity, max + 1));
        }
        int n = heads.total();
        int d = 2 * half;
        float[] c = new float[positions.length * n * d];
        float[] s = new float[c.length];
        for (int t = 0; t < positions.length; t++) {
            int row = (int) positions[t] * half;
            for (int j = 0; j < n; j++) {
                int at = (t * n + j) * d;
                if (j >= heads.q() + heads.k()) {
                    java.util.Arrays.fill(c, at, at + d, 1f);
                    continue;
                }
                float scale = j < heads.q() ? heads.qScale() : 1f;
                for (int i = 0; i < half; i++) {
                    c[at + i] = c[at + i + half] = cos[row + i] * scale;
                    s[at + i] = s[at + i + half] = sin[row + i] * scale;
                }
            }
        }
        Shape shape = new Shape(positions.length, n, d);
        return new NDArray[] {Tensors.create(step, c, shape, dtype), Tensors.create(step, s, shape, dtype)};
    }

    /** x [T, heads, D] -> rotated (and scaled) copy; {@code xr} is {@link #rotated}(x), shared by both tables' uses. */
    NDArray apply(NDArray x, NDArray xr, NDArray[] cs) {
        return x.mul(cs[0]).add(xr.mul(cs[1]));
    }

    /** x R: the half swap with the first half negated. */
    NDArray rotated(NDArray x) {
        return x.matMul(rotation);
    }
}
