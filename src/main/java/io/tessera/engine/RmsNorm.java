package io.tessera.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * RMSNorm w * x / sqrt(mean(x²) + eps) over the last axis as torch's layer norm of [x, -x]: that row has mean 0 and
 * variance mean(x²), so its first half normalised and scaled by w is the RMSNorm. Four ops (neg, cat, layer_norm,
 * narrow), where square, mean, a scalar add, sqrt, div and mul took six or more; the layer norm accumulates in float32
 * on every dtype.
 */
final class RmsNorm {
    private final NDArray gamma;   // [2E]: w twice (the second half is dropped)
    private final NDArray beta;    // [2E] zeros
    private final Shape shape;
    private final double eps;
    private final int hidden;

    RmsNorm(NDManager manager, float[] w, double eps, DataType dtype) {
        this.hidden = w.length;
        this.gamma = Tensors.create(manager, DecoderModel.concat(w, w), new Shape(2L * hidden), dtype);
        this.beta = manager.zeros(new Shape(2L * hidden), dtype);
        this.shape = new Shape(2L * hidden);
        this.eps = eps;
    }

    /** x [T, E] -> normalised [T, E] (a view of a [T, 2E] result). */
    NDArray apply(NDArray x) {
        NDArray both = NDArrays.concat(new NDList(x, x.neg()), -1);                                        // [T, 2E]
        NDArray y = JniUtils.layerNorm((PtNDArray) both, shape, (PtNDArray) gamma, (PtNDArray) beta, eps);
        return Views.narrow(y, 1, 0, hidden);
    }
}
