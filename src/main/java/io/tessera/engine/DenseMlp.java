package io.tessera.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Activation;

/** SwiGLU: down(silu(gate(x)) * up(x)), with gate and up fused into one matmul. */
record DenseMlp(NDArray[] gateUp, NDArray[] down, int intermediate) implements Mlp {
    @Override
    public NDArray forward(int layer, NDArray x, StepContext ctx) {
        NDArray gu = ctx.adapters().apply(Site.GATE_UP, layer, x, x.matMul(gateUp[layer]));   // [T, 2I]
        NDArray act = swiglu(gu, intermediate);                                                 // [T, I]
        return ctx.adapters().apply(Site.DOWN, layer, act, act.matMul(down[layer]));           // [T, H]
    }

    static NDArray swiglu(NDArray gu, int intermediate) {
        NDArray gate = gu.get(new NDIndex("..., 0:{}", intermediate));
        NDArray up = gu.get(new NDIndex("..., {}:", intermediate));
        return gate.mul(Activation.sigmoid(gate)).mul(up);
    }
}
