package io.tessera.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.tessera.engine.ModelConfig.MoeConfig;

/**
 * Mixture of Grouped Experts (Pangu Pro MoE). S = softmax(x Wg^T) over all experts; in each of the M groups the
 * top k/M experts by S; weight = S * router_scale[e], not renormalised; plus a shared expert.
 *
 * <p>Each expert runs only on its tokens: tokens are gathered into a padded [experts, m, hidden] batch (m = the
 * busiest expert's count), run through one batched matmul per projection, weighted, and summed back per token
 * with one gather. Replacement experts of expert-group adapters form a second stack handled the same way.
 */
record MoGeMlp(MoeConfig moe, NDArray[] router, float[][] routerScale, NDArray[] gateUp, NDArray[] down,
               DenseMlp shared) implements Mlp {

    @Override
    public NDArray forward(int layer, NDArray x, NDArray residual, StepContext ctx) {
        int tokens = (int) x.getShape().get(0);
        int hidden = (int) x.getShape().get(1);
        int e = moe.numExperts();
        int k = moe.expertsPerToken();
        float[] probs = x.matMul(router[layer]).toType(DataType.FLOAT32, false).softmax(-1).toFloatArray();
        int[][] chosen = route(probs, tokens);
        if (ctx.routing() != null) {
            ctx.routing().record(layer, chosen);
        }
        ExpertOverride override = ctx.adapters().experts();
        int extra = override == null ? 0 : (int) override.gateUp()[layer].getShape().get(0);
        // expert id space: base 0..e-1, then replacement experts e..e+extra-1
        int[] counts = new int[e + extra];
        int[][] target = new int[tokens][k];
        for (int t = 0; t < tokens; t++) {
            int[] map = override == null ? null : override.rowMaps()[t];
            for (int j = 0; j < k; j++) {
                int ex = chosen[t][j];
                int id = map != null && map[ex] >= 0 ? e + map[ex] : ex;
                target[t][j] = id;
                counts[id]++;
            }
        }
        int mBase = max(counts, 0, e);
        int mExtra = max(counts, e, e + extra);
        long[] gather = new long[e * mBase + extra * mExtra];
        float[] weight = new float[gather.length];
        long[] back = new long[tokens * k];
        int[] fill = new int[e + extra];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < k; j++) {
                int id = target[t][j];
                int flat = id < e ? id * mBase + fill[id] : e * mBase + (id - e) * mExtra + fill[id];
                fill[id]++;
                gather[flat] = t;
                weight[flat] = probs[t * e + chosen[t][j]] * routerScale[layer][chosen[t][j]];
                back[t * k + j] = flat;
            }
        }
        // in x's manager (a layer's scope), not the step's: the gathers land in their index's manager, and with
        // them the experts' activations, which would otherwise stay until the step ends
        var m = x.getManager();
        NDArray w = m.create(weight).toType(x.getDataType(), false);
        NDArray rows = Rows.select(x, m.create(gather));                                   // [N, H]
        NDArray y = experts(rows.get("0:{}", e * mBase), gateUp[layer], down[layer], e, mBase, hidden);
        if (extra > 0 && mExtra > 0) {
            NDArray ya = experts(rows.get("{}:", e * mBase), override.gateUp()[layer], override.down()[layer], extra, mExtra, hidden);
            y = y.concat(ya, 0);
        }
        y = y.mul(w.expandDims(1));                                                         // [N, H]
        NDArray routed = Rows.select(y, m.create(back, new Shape(tokens, k))).sum(new int[] {1});
        return shared.forward(layer, x, residual.add(routed), ctx);
    }

    /** rows [n * m, H] grouped by expert -> [n * m, H]. */
    private NDArray experts(NDArray rows, NDArray gu, NDArray dn, int n, int m, int hidden) {
        if (m == 0) {
            return rows.getManager().zeros(new Shape(0, hidden), rows.getDataType());
        }
        NDArray h = rows.reshape(n, m, hidden).matMul(gu);                                // [n, m, 2I]
        return DenseMlp.swiglu(h, moe.moeIntermediateSize()).matMul(dn).reshape(n * m, hidden);
    }

    /** Per token, the top experts of each group, group by group (highest first within a group). */
    int[][] route(float[] probs, int tokens) {
        int e = moe.numExperts();
        int per = moe.expertsPerGroup();
        int top = moe.topPerGroup();
        int[][] out = new int[tokens][moe.expertsPerToken()];
        for (int t = 0; t < tokens; t++) {
            int o = 0;
            for (int g = 0; g < moe.numExpertGroups(); g++) {
                boolean[] taken = new boolean[per];
                for (int r = 0; r < top; r++) {
                    int best = -1;
                    for (int i = 0; i < per; i++) {
                        if (!taken[i] && (best < 0 || probs[t * e + g * per + i] > probs[t * e + g * per + best])) {
                            best = i;
                        }
                    }
                    taken[best] = true;
                    out[t][o++] = g * per + best;
                }
            }
        }
        return out;
    }

    private static int max(int[] a, int from, int to) {
        int m = 0;
        for (int i = from; i < to; i++) {
            m = Math.max(m, a[i]);
        }
        return m;
    }
}
