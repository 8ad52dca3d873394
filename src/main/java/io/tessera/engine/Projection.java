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
     * residual + x W + bias ({@code residual} may be null). A step without adapters runs it as one addmm (bias and
     * residual folded in); otherwise the rows' adapters apply to x W alone, as in PEFT (DoRA scales no bias).
     */
    NDArray apply(StepContext ctx, Site site, int layer, NDArray x, NDArray residual) {
        if (ctx.adapters() == AdapterBatch.NONE && (bias == null || residual == null)) {
            NDArray add = bias != null ? bias : residual;
            // linear is two ops (t, addmm): worth it only when it folds an add
            return add == null ? x.matMul(w) : Views.linear(x, wT, add);
        }
        NDArray y = ctx.adapters().apply(site, layer, x, x.matMul(w));
        if (bias != null) {
            y = y.add(bias);
        }
        return residual == null ? y : residual.add(y);
    }
}
