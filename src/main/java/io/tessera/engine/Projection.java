package io.tessera.engine;

import ai.djl.ndarray.NDArray;

/**
 * One (fused) projection: its weight [in, out] as adapters and DoRA read it, the [out, in] view torch's linear
 * takes (no copy), and its bias or null.
 */
record Projection(NDArray w, NDArray wT, NDArray bias) {
    static Projection of(NDArray w, NDArray bias) {
        return new Projection(w, w.transpose(), bias);
    }

    /**
     * residual + x W + bias ({@code residual} may be null), with the rows' adapters. When they only add a delta (no
     * DoRA), bias and residual go into the matmul as one addmm and the deltas are added to that; DoRA scales x W
     * alone, as in PEFT, so there bias and residual come after.
     */
    NDArray apply(StepContext ctx, Site site, int layer, NDArray x, NDArray residual) {
        AdapterBatch adapters = ctx.adapters();
        if (adapters.additive()) {
            NDArray add = bias == null ? residual : residual == null ? bias : null;
            // linear is two ops (t, addmm): worth it only when it folds an add
            NDArray y = add == null ? x.matMul(w) : Views.linear(x, wT, add);
            if (add == null && bias != null) {
                y = residual.add(y.add(bias));
            }
            return adapters.apply(site, layer, x, y);
        }
        NDArray y = adapters.apply(site, layer, x, x.matMul(w));
        if (bias != null) {
            y = y.add(bias);
        }
        return residual == null ? y : residual.add(y);
    }
}
