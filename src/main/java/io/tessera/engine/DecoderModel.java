package io.tessera.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.tessera.engine.ModelConfig.Family;
import io.tessera.engine.ModelConfig.MoeConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * A pre-norm decoder (Llama, Mistral, Qwen2, PanguProMoE) as a function of (weights, KV cache, step plan).
 *
 * <p>Dimension legend: T packed tokens of the step, B slots in the step, Q = max new tokens of a row,
 * H query heads, KV kv heads, g = H / KV, D head dim, E hidden size, V vocabulary.
 * Weights are stored pre-transposed ([in, out]) with q/k/v and gate/up fused, HF names kept in the loader.
 */
public final class DecoderModel implements AutoCloseable {
    private final ModelConfig config;
    private final NDManager manager;
    private final DataType dtype;
    private final NDArray embed;        // [V, E]
    private final NDArray lmHead;       // [E, V]
    private final NDArray finalNorm;    // [E]
    private final NDArray[] inputNorm;  // [E]
    private final NDArray[] postNorm;
    private final NDArray[] qkv;        // [E, (H + 2 KV) D]
    private final NDArray[] qkvBias;    // or null
    private final NDArray[] o;          // [H D, E]
    private final NDArray[] oBias;
    private final Mlp mlp;
    private final Rope rope;

    private DecoderModel(ModelConfig config, NDManager manager, DataType dtype, Weights cp) {
        this.config = config;
        this.manager = manager;
        this.dtype = dtype;
        int layers = config.numLayers();
        int e = config.hiddenSize();
        int hd = config.numHeads() * config.headDim();
        int kvd = config.numKvHeads() * config.headDim();
        embed = tensor(cp.read("model.embed_tokens.weight", config.vocabSize(), e), config.vocabSize(), e);
        String head = config.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
        lmHead = transposed(cp.read(head, config.vocabSize(), e), config.vocabSize(), e);
        finalNorm = tensor(cp.read("model.norm.weight", e), e);
        inputNorm = new NDArray[layers];
        postNorm = new NDArray[layers];
        qkv = new NDArray[layers];
        qkvBias = new NDArray[layers];
        o = new NDArray[layers];
        oBias = new NDArray[layers];
        boolean qkvBiased = config.family() != Family.LLAMA;
        boolean oBiased = config.family() == Family.MOGE;
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            inputNorm[l] = tensor(cp.read(p + "input_layernorm.weight", e), e);
            postNorm[l] = tensor(cp.read(p + "post_attention_layernorm.weight", e), e);
            float[] wq = cp.read(p + "self_attn.q_proj.weight", hd, e);
            float[] wk = cp.read(p + "self_attn.k_proj.weight", kvd, e);
            float[] wv = cp.read(p + "self_attn.v_proj.weight", kvd, e);
            qkv[l] = transposed(concat(wq, wk, wv), hd + 2 * kvd, e);
            // biases wherever the checkpoint has them (Llama may carry attention_bias too)
            if (qkvBiased || cp.has(p + "self_attn.q_proj.bias")) {
                qkvBias[l] = tensor(concat(cp.read(p + "self_attn.q_proj.bias", hd), cp.read(p + "self_attn.k_proj.bias", kvd),
                        cp.read(p + "self_attn.v_proj.bias", kvd)), hd + 2 * kvd);
            }
            o[l] = transposed(cp.read(p + "self_attn.o_proj.weight", e, hd), e, hd);
            if (oBiased || cp.has(p + "self_attn.o_proj.bias")) {
                oBias[l] = tensor(cp.read(p + "self_attn.o_proj.bias", e), e);
            }
        }
        mlp = config.moe().isPresent() ? loadMoGe(cp, config.moe().get()) : loadDense(cp, "mlp.", config.intermediateSize());
        rope = new Rope(manager, config.headDim(), config.ropeTheta(), Math.max(config.maxPositionEmbeddings(), 64), dtype);
    }

    /** Loads and validates every tensor the config implies; the weights stay the caller's to close. */
    public static DecoderModel load(ModelConfig config, Weights cp, NDManager manager, DataType dtype) {
        NDManager own = manager.newSubManager();
        try {
            return new DecoderModel(config, own, dtype, cp);
        } catch (RuntimeException e) {
            own.close();
            throw e;
        }
    }

    private DenseMlp loadDense(Weights cp, String prefix, int inter) {
        int e = config.hiddenSize();
        NDArray[] gu = new NDArray[config.numLayers()];
        NDArray[] dn = new NDArray[config.numLayers()];
        for (int l = 0; l < config.numLayers(); l++) {
            String p = "model.layers." + l + "." + prefix;
            gu[l] = transposed(concat(cp.read(p + "gate_proj.weight", inter, e), cp.read(p + "up_proj.weight", inter, e)), 2 * inter, e);
            dn[l] = transposed(cp.read(p + "down_proj.weight", e, inter), e, inter);
        }
        return new DenseMlp(gu, dn, inter);
    }

    private MoGeMlp loadMoGe(Weights cp, MoeConfig moe) {
        int e = config.hiddenSize();
        int n = moe.numExperts();
        int inter = moe.moeIntermediateSize();
        int layers = config.numLayers();
        NDArray[] router = new NDArray[layers];
        float[][] scale = new float[layers][];
        NDArray[] gu = new NDArray[layers];
        NDArray[] dn = new NDArray[layers];
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".mlp.";
            router[l] = transposed(cp.read(p + "gate.weight", n, e), n, e);
            scale[l] = cp.read(p + "router_scale", 1, n);
            float[][] experts = readExperts(cp, p, 0, n, e, inter);
            gu[l] = tensor(experts[0], n, e, 2 * inter);
            dn[l] = tensor(experts[1], n, inter, e);
        }
        return new MoGeMlp(moe, router, scale, gu, dn, loadDense(cp, "mlp.shared_expert.", moe.sharedIntermediateSize()));
    }

    /**
     * Experts first..first+count of one layer, stacked and transposed: [count, E, 2I] (gate|up) and [count, I, E].
     * Also used for expert-group adapters, whose files carry the base tensor names.
     */
    public static float[][] readExperts(Weights cp, String mlpPrefix, int first, int count, int e, int inter) {
        float[] gu = new float[count * e * 2 * inter];
        float[] dn = new float[count * inter * e];
        for (int x = 0; x < count; x++) {
            String p = mlpPrefix + "experts." + (first + x) + ".";
            float[] g = transpose(cp.read(p + "gate_proj.weight", inter, e), inter, e);  // [E, I]
            float[] u = transpose(cp.read(p + "up_proj.weight", inter, e), inter, e);
            for (int r = 0; r < e; r++) {
                System.arraycopy(g, r * inter, gu, (x * e + r) * 2 * inter, inter);
                System.arraycopy(u, r * inter, gu, (x * e + r) * 2 * inter + inter, inter);
            }
            System.arraycopy(transpose(cp.read(p + "down_proj.weight", e, inter), e, inter), 0, dn, x * inter * e, inter * e);
        }
        return new float[][] {gu, dn};
    }

    public ModelConfig config() {
        return config;
    }

    public DataType dtype() {
        return dtype;
    }

    public NDManager manager() {
        return manager;
    }

    /** The layer's base weight of one HF module as [out, in] floats (for DoRA's column norms at adapter load). */
    public float[] baseWeight(int layer, String module) {
        Site site = Site.of(module);
        NDArray w = switch (site) {
            case QKV -> qkv[layer];
            case O -> o[layer];
            case GATE_UP, DOWN -> {
                if (!(mlp instanceof DenseMlp d)) {
                    throw new IllegalArgumentException(module + " is not a dense projection of this model");
                }
                yield site == Site.GATE_UP ? d.gateUp()[layer] : d.down()[layer];
            }
        };
        int[] range = outputRange(site, module);
        long in = w.getShape().get(0);
        // ops on the weight land in the model's manager: the slice and all made from it go with this scope
        try (NDManager scope = manager.newSubManager()) {
            NDArray slice = w.get(new NDIndex(":, {}:{}", range[0], range[1]));
            slice.attach(scope);
            float[] out = slice.transpose().toType(DataType.FLOAT32, false).toFloatArray();
            if (out.length != (range[1] - range[0]) * in) {
                throw new IllegalStateException("unexpected weight size");
            }
            return out;
        }
    }

    /** [begin, end) of a module's outputs inside its fused site. */
    public int[] outputRange(Site site, String module) {
        int hd = config.numHeads() * config.headDim();
        int kvd = config.numKvHeads() * config.headDim();
        int inter = config.intermediateSize();
        return switch (module) {
            case "q_proj" -> new int[] {0, hd};
            case "k_proj" -> new int[] {hd, hd + kvd};
            case "v_proj" -> new int[] {hd + kvd, hd + 2 * kvd};
            case "o_proj", "down_proj" -> new int[] {0, config.hiddenSize()};
            case "gate_proj" -> new int[] {0, inter};
            case "up_proj" -> new int[] {inter, 2 * inter};
            default -> throw new IllegalArgumentException("not a decoder projection: " + module);
        };
    }

    /** Input width of a module. */
    public int inputSize(String module) {
        return switch (module) {
            case "o_proj" -> config.numHeads() * config.headDim();
            case "down_proj" -> config.intermediateSize();
            default -> config.hiddenSize();
        };
    }

    public boolean hasDenseMlp() {
        return mlp instanceof DenseMlp;
    }

    /** Token embeddings for the packed step tokens: [T, E]. */
    NDArray embed(NDManager step, long[] ids) {
        return Rows.select(embed, step.create(ids));
    }

    /**
     * One forward pass over the step's packed tokens. Writes the new keys/values into the cache and returns the
     * final hidden states of the rows listed in {@code logitRows} projected to logits [n, V] (float32).
     */
    NDArray forward(StepContext ctx, NDArray x, KvCache cache, long[] logitRows) {
        StepPlan plan = ctx.plan();
        NDManager m = ctx.manager();
        NDArray[] cs = rope.tables(m, plan.positions);
        boolean anyGlobals = plan.layouts.stream().anyMatch(lay -> lay.globals > 0);
        NDArray[] csGlobal = anyGlobals ? rope.tables(m, plan.globalPositions) : null;
        List<LayoutArrays> layouts = new ArrayList<>(plan.layouts.size());
        for (StepPlan.Layout lay : plan.layouts) {
            layouts.add(new LayoutArrays(lay,
                    m.create(lay.mask, new Shape(lay.batch, 1, 1, lay.qMax, lay.columns())),
                    plan.packedIsPadded ? null : m.create(lay.padIndex),
                    lay.slots == null ? null : m.create(lay.slots)));
        }
        NDArray unpadIdx = plan.packedIsPadded ? null : m.create(plan.unpadIndex);
        KvCache.Indices before = KvCache.Indices.of(m, plan.before, plan.tokens);
        KvCache.Indices globals = KvCache.Indices.of(m, plan.globalsBefore, plan.tokens);
        KvCache.Indices after = KvCache.Indices.of(m, plan.after, plan.tokens);
        for (int l = 0; l < config.numLayers(); l++) {
            // one scope per layer: a layer's activations are freed before the next one runs, so a step holds one
            // layer's worth, not all of them (a 512-token prefill of SmolLM2-135M otherwise holds ~2 GB). Ops land
            // in the manager of the array they are called on: the layer's input moves in, its output moves out
            try (NDManager layer = m.newSubManager()) {
                x.attach(layer);
                x = layer(l, layer, x, new StepArrays(cs, csGlobal, layouts, unpadIdx, before, globals, after), cache, ctx);
                x.attach(m);
            }
        }
        NDArray last = Rows.select(x, m.create(logitRows));
        return rmsNorm(last, finalNorm, config.rmsNormEps(), dtype).matMul(lmHead).toType(DataType.FLOAT32, false);
    }

    /** One decoder layer on x [T, E], in the layer's scope {@code m}; returns its output [T, E]. */
    private NDArray layer(int l, NDManager m, NDArray x, StepArrays st, KvCache cache, StepContext ctx) {
        StepPlan plan = ctx.plan();
        int h = config.numHeads();
        int kv = config.numKvHeads();
        int d = config.headDim();
        NDArray xn = rmsNorm(x, inputNorm[l], config.rmsNormEps(), dtype);
        NDArray proj = ctx.adapters().apply(Site.QKV, l, xn, xn.matMul(qkv[l]));
        if (qkvBias[l] != null) {
            proj = proj.add(qkvBias[l]);
        }
        NDArray heads = proj.reshape(plan.tokens, h + 2 * kv, d);                   // [T, H+2KV, D]
        NDArray qk = rope.apply(heads.get(new NDIndex(":, 0:{}, :", h + kv)), st.cs());  // [T, H+KV, D]
        NDArray q = qk.get(new NDIndex(":, 0:{}, :", h));
        NDArray k = qk.get(new NDIndex(":, {}:, :", h));
        NDArray v = heads.get(new NDIndex(":, {}:, :", h + kv));
        cache.write(l, st.before(), k, v);
        cache.write(l, st.globals(), heads.get(new NDIndex(":, {}:{}, :", h, h + kv)), v);
        NDArray qGlobal = st.csGlobal() == null ? null : rope.apply(heads.get(new NDIndex(":, 0:{}, :", h)), st.csGlobal());
        List<NDArray> parts = new ArrayList<>(st.layouts().size());
        for (LayoutArrays lay : st.layouts()) {
            parts.add(attention(m, lay, l, q, qGlobal, k, v, cache));                 // [B Q, H D]
        }
        NDArray padded = parts.size() == 1 ? parts.get(0) : NDArrays.concat(new NDList(parts), 0);
        NDArray attn = st.unpadIdx() == null ? padded : Rows.select(padded, st.unpadIdx());   // [T, H D]
        NDArray out = ctx.adapters().apply(Site.O, l, attn, attn.matMul(o[l]));
        if (oBias[l] != null) {
            out = out.add(oBias[l]);
        }
        x = x.add(out);
        x = x.add(mlp.forward(l, rmsNorm(x, postNorm[l], config.rmsNormEps(), dtype), ctx));
        cache.write(l, st.after(), k, v);
        return x;
    }

    /** What every layer of a step reads: rotary tables, layouts, the unpad index, the KV write positions. */
    private record StepArrays(NDArray[] cs, NDArray[] csGlobal, List<LayoutArrays> layouts, NDArray unpadIdx,
                              KvCache.Indices before, KvCache.Indices globals, KvCache.Indices after) {
    }

    /** A layout's step-scoped arrays: its mask, packed -> padded index and gathered slots (or nulls). */
    private record LayoutArrays(StepPlan.Layout plan, NDArray mask, NDArray padIdx, NDArray slots) {
    }

    /** Attention of one layout's rows: [B Q, H D] in padded order. */
    private NDArray attention(NDManager m, LayoutArrays layout, int layer, NDArray q, NDArray qGlobal, NDArray k, NDArray v,
                              KvCache cache) {
        StepPlan.Layout plan = layout.plan();
        NDArray padIdx = layout.padIdx();
        int b = plan.batch;
        int qm = plan.qMax;
        int h = config.numHeads();
        int kv = config.numKvHeads();
        int g = config.kvGroups();
        int d = config.headDim();
        float scale = (float) (1.0 / Math.sqrt(d));
        List<NDArray> scores = new ArrayList<>(3);
        List<NDArray> vals = new ArrayList<>(3);
        if (plan.globals > 0) {
            NDArray qg = toHeadGroups(pad(qGlobal, padIdx).mul(scale), b, qm);
            scores.add(qg.matMul(cache.keys(m, layer, layout.slots(), b, 0, plan.globals).transpose(0, 1, 3, 2)));
            vals.add(cache.values(m, layer, layout.slots(), b, 0, plan.globals));
        }
        NDArray q5 = toHeadGroups(pad(q, padIdx).mul(scale), b, qm);                     // [B, KV, gQ, D]
        scores.add(q5.matMul(cache.keys(m, layer, layout.slots(), b, 0, plan.kvCols).transpose(0, 1, 3, 2)));  // [B, KV, gQ, kv]
        vals.add(cache.values(m, layer, layout.slots(), b, 0, plan.kvCols));
        if (plan.newCols > 0) {
            NDArray kn = pad(k, padIdx).reshape(b, qm, kv, d).transpose(0, 2, 1, 3);      // [B, KV, Q, D]
            scores.add(q5.matMul(kn.transpose(0, 1, 3, 2)));
            vals.add(pad(v, padIdx).reshape(b, qm, kv, d).transpose(0, 2, 1, 3));
        }
        NDArray s = scores.size() == 1 ? scores.get(0) : concatColumns(scores);
        int cols = plan.columns();
        NDArray p = s.reshape(b, kv, g, qm, cols).toType(DataType.FLOAT32, false).add(layout.mask()).softmax(4)
                .toType(dtype, false).reshape(b, kv, g * qm, cols);
        NDArray out = null;
        int from = 0;
        for (NDArray val : vals) {
            int w = (int) val.getShape().get(2);
            NDArray part = p.get(new NDIndex("..., {}:{}", from, from + w)).matMul(val);   // [B, KV, gQ, D]
            out = out == null ? part : out.add(part);
            from += w;
        }
        return out.reshape(b, kv, g, qm, d).transpose(0, 3, 1, 2, 4).reshape(b * qm, h * d);
    }

    private static NDArray concatColumns(List<NDArray> parts) {
        return NDArrays.concat(new NDList(parts), 3);
    }

    private static NDArray pad(NDArray packed, NDArray padIdx) {
        return padIdx == null ? packed : packed.get(new NDIndex("{}", padIdx));
    }

    /** [B Q, n, D] -> [B, KV, g Q, D] with head h = kv * g + j, so keys [B, KV, *, D] broadcast without repeats. */
    private NDArray toHeadGroups(NDArray x, int b, int qm) {
        int kv = config.numKvHeads();
        int g = config.kvGroups();
        int d = config.headDim();
        return x.reshape(b, qm, kv, g, d).transpose(0, 2, 3, 1, 4).reshape(b, kv, g * qm, d);
    }

    /** w * x / sqrt(mean(x²) + eps) over the last axis, computed in float32, returned in {@code dtype}. */
    static NDArray rmsNorm(NDArray x, NDArray w, double eps, DataType dtype) {
        NDArray x32 = x.toType(DataType.FLOAT32, false);
        NDArray inv = x32.mul(x32).mean(new int[] {-1}, true).add((float) eps).sqrt();
        return x32.div(inv).toType(dtype, false).mul(w);
    }

    NDArray tensor(float[] data, long... shape) {
        return Tensors.create(manager, data, new Shape(shape), dtype);
    }

    private NDArray transposed(float[] rowsByCols, int rows, int cols) {
        return tensor(transpose(rowsByCols, rows, cols), cols, rows);
    }

    static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = a[r * cols + c];
            }
        }
        return t;
    }

    static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }
}
