package io.tessera.engine;

import ai.djl.ndarray.NDArray;

/** The feed-forward half of a decoder layer. */
sealed interface Mlp permits DenseMlp, MoGeMlp {
    /** residual + mlp(x): the residual add goes into the last projection where it can (one addmm). */
    NDArray forward(int layer, NDArray x, NDArray residual, StepContext ctx);
}
