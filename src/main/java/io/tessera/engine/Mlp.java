package io.tessera.engine;

import ai.djl.ndarray.NDArray;

/** The feed-forward half of a decoder layer. */
sealed interface Mlp permits DenseMlp, MoGeMlp {
    NDArray forward(int layer, NDArray x, StepContext ctx);
}
