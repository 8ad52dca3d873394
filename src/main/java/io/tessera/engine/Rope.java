package io.tessera.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embedding, half-split (HF {@code rotate_half}). cos/sin tables live in the model's manager
 * and grow by doubling, since LM-Infinite positions have no upper bound.
 */
final class Rope {
    private final NDManager manager;
    private final int half;
    private final double[] invFreq;
    private final DataType dtype;
    private NDArray cos;   // [P, half]
    private NDArray sin;
    private int capacity;

    Rope(NDManager manager, int headDim, double theta, int initialPositions, DataType dtype) {
        this.manager = manager;
        this.half = headDim / 2;
        this.dtype = dtype;
        this.invFreq = new double[half];
        for (int i = 0; i < half; i++) {
            invFreq[i] = Math.pow(theta, -2.0 * i / headDim);
        }
        grow(initialPositions);
    }

    private void grow(int positions) {
        float[] c = new float[positions * half];
        float[] s = new float[positions * half];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                double a = p * invFreq[i];
                c[p * half + i] = (float) Math.cos(a);
                s[p * half + i] = (float) Math.sin(a);
            }
        }
        if (cos != null) {
            cos.close();
            sin.close();
        }
        cos = Tensors.create(manager, c, new Shape(positions, half), dtype);
        sin = Tensors.create(manager, s, new Shape(positions, half), dtype);
        capacity = positions;
    }

    /** cos and sin rows for the given positions, shaped [T, 1, half] to broadcast over heads. */
    NDArray[] tables(NDManager step, long[] positions) {
        long max = 0;
        for (long p : positions) {
            max = Math.max(max, p);
        }
        if (max >= capacity) {
            grow((int) Math.max(2L * capacity, max + 1));
        }
        NDArray idx = step.create(positions);
        return new NDArray[] {Rows.select(cos, idx).expandDims(1), Rows.select(sin, idx).expandDims(1)};
    }

    /** x: [T, heads, D] -> rotated copy. */
    NDArray apply(NDArray x, NDArray[] cs) {
        NDArray x1 = x.get(new NDIndex(":, :, 0:{}", half));
        NDArray x2 = x.get(new NDIndex(":, :, {}:", half));
        NDArray c = cs[0];
        NDArray s = cs[1];
        return x1.mul(c).sub(x2.mul(s)).concat(x2.mul(c).add(x1.mul(s)), 2);
    }
}
