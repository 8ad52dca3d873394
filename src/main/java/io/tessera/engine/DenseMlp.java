package io.tessera.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;

/** SwiGLU: down(silu(gate(x)) * up(x)), with gate and up fused into one matmul. */
record DenseMlp(Projection[] gateUp, Projection[] down, int intermediate) implements Mlp {
    @Override
    public NDArray forward(int layer, NDArray x, NDArray residual, StepContext ctx) {
        NDArray gu = gateUp[layer].apply(ctx, Site.GATE_UP, layer, x, null);   // [T, 2I]
        NDArray act = swiglu(gu, intermediate);                                 // [T, I]
        return down[layer].apply(ctx, Site.DOWN, layer, act, residual);        // [T, E]
    }

    /** One split (a DJL range index would slice every dimension) and three elementwise ops. */
    static NDArray swiglu(NDArray gu, int intermediate) {
        NDList parts = gu.split(new long[] {intermediate}, gu.getShape().dimension() - 1);
        NDArray gate = parts.get(0);
        return gate.mul(Activation.sigmoid(gate)).mul(parts.get(1));
    }
}
