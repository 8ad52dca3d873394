package io.tessera.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Single libtorch ops DJL's NDArray API spends several on. {@code get(new NDIndex(":, a:b"))} issues one
 * {@code aten::slice} per dimension (≈ 9 µs each on a decode step's small tensors); {@link #narrow} is one.
 * Results belong to the first input's manager, as every DJL op's do.
 */
public final class Views {
    /** a[..., from:to, ...] along {@code dim}: a view. */
    static NDArray narrow(NDArray a, int dim, long from, long to) {
        return JniUtils.slice((PtNDArray) a, dim, from, to, 1);
    }

    /** x [T, in] times weight [out, in] transposed, plus bias (broadcast over rows; [T, out] adds a residual) or null: one addmm. */
    public static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return JniUtils.linear((PtNDArray) x, (PtNDArray) weight, (PtNDArray) bias);
    }

    private Views() {
    }
}
