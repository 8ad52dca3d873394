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
    private final NDArray lmHead;       // [E, V]: with tied embeddings a transposed view of embed, no second copy
    private final RmsNorm finalNorm;
    private final RmsNorm[] inputNorm;
    private final RmsNorm[] postNorm;
    private final Projection[] qkv;     // [E, (H + 2 KV) D], bias or null
    private final Projection[] o;       // [H D, E], bias or null
    private final Mlp mlp;
    private final Rope rope;
    private long viewBytes;             // the transposed views among the manager's arrays: they share their weight's storage

    private DecoderModel(ModelConfig config, NDManager manager, DataType dtype, Weights cp) {
        this.config = config;
        this.manager = manager;
        this.dtype = dtype;
        int layers = config.numLayers();
        int e = config.hiddenSize();
        int hd = config.numHeads() * config.headDim();
        int kvd = config.numKvHeads() * config.headDim();
        embed = tensor(cp.read("model.embed_tokens.weight", config.vocabSize(), e), config.vocabSize(), e);
        lmHead = config.tieWordEmbeddings() ? view(embed.transpose()) : transposed(cp.read("lm_head.weight", config.vocabSize(), e), config.vocabSize(), e);
        finalNorm = norm(cp.read("model.norm.weight", e));
        inputNorm = new RmsNorm[layers];
        postNorm = new RmsNorm[layers];
        qkv = new Projection[layers];
        o = new Projection[layers];
        boolean qkvBiased = config.family() != Family.LLAMA;
        boolean oBiased = config.family() == Family.MOGE;
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            inputNorm[l] = norm(cp.read(p + "input_layernorm.weight", e));
            postNorm[l] = norm(cp.read(p + "post_attention_layernorm.weight", e));
            float[] wq = cp.read(p + "self_attn.q_proj.weight", hd, e);
            float[] wk = cp.read(p + "self_attn.k_proj.weight", kvd, e);
            float[] wv = cp.read(p + "self_attn.v_proj.weight", kvd, e);
            NDArray qkvBias = null;
            // biases wherever the checkpoint has them (Llama may carry attention_bias too)
            if (qkvBiased || cp.has(p + "self_attn.q_proj.bias")) {
                qkvBias = tensor(concat(cp.read(p + "self_attn.q_proj.bias", hd), cp.read(p + "self_attn.k_proj.bias", kvd),
                        cp.read(p + "self_attn.v_proj.bias", kvd)), hd + 2 * kvd);
            }
            qkv[l] = projection(transposed(concat(wq, wk, wv), hd + 2 * kvd, e), qkvBias);
            NDArray oBias = oBiased || cp.has(p + "self_attn.o_proj.bias") ? tensor(cp.read(p + "self_attn.o_proj.bias", e), e) : null;
            o[l] = projection(transposed(cp.read(p + "self_attn.o_proj.weight", e, hd), e, hd), oBias);
        }
        mlp = config.moe().isPresent() ? loadMoGe(cp, config.moe().get()) : loadDense(cp, "mlp.", config.intermediateSize());
        rope = new Rope(manager, config.headDim(), config.ropeTheta(), Math.max(config.maxPositionEmbeddings(), 64), dtype,
                new Rope.Heads(config.numHeads(), config.numKvHeads(), config.numKvHeads(), (float) (1.0 / Math.sqrt(config.headDim()))));
    }

    private Projection projection(NDArray w, NDArray bias) {
        Projection p = Projection.of(w, bias);
        view(p.wT());
        return p;
    }

    private NDArray view(NDArray v) {
        viewBytes += bytes(v);
        return v;
    }

    private static long bytes(NDArray a) {
        return a.size() * a.getDataType().getNumOfBytes();
    }

    /** Bytes of the weights' storage: every array of the model once (not again for its transposed views). */
    public long weightBytes() {
        return manager.getManagedArrays().stream().mapToLong(DecoderModel::bytes).sum() - viewBytes;
    }

    private RmsNorm norm(float[] w) {
        return new RmsNorm(manager, w, config.rmsNormEps(), dtype);
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
        Projection[] gu = new Projection[config.numLayers()];
        Projection[] dn = new Projection[config.numLayers()];
        for (int l = 0; l < config.numLayers(); l++) {
            String p = "model.layers." + l + "." + prefix;
            gu[l] = projection(transposed(concat(cp.read(p + "gate_proj.weight", inter, e), cp.read(p + "up_proj.weight", inter, e)), 2 * inter, e), null);
            dn[l] = projection(transposed(cp.read(p + "down_proj.weight", e, inter), e, inter), null);
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
            case QKV -> qkv[layer].w();
            case O -> o[layer].w();
            case GATE_UP, DOWN -> {
                if (!(mlp instanceof DenseMlp d)) {
                    throw new IllegalArgumentException(module + " is not a dense projection of this model");
                }
                yield (site == Site.GATE_UP ? d.gateUp()[layer] : d.down()[layer]).w();
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
     * A decode step of demo-llama at batch 1 issues about 30 libtorch ops a layer (see ENGINE-NOTES.md).
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
                    masks(lay.mask) ? m.create(lay.mask, new Shape(lay.batch, 1, 1, lay.qMax, lay.columns())) : null,
                    plan.packedIsPadded ? null : m.create(lay.padIndex),
                    lay.slots == null ? null : m.create(lay.slots)));
        }
        NDArray unpadIdx = plan.packedIsPadded ? null : m.create(plan.unpadIndex);
        KvCache.Indices before = cache.indices(m, plan.before, plan.tokens);
        KvCache.Indices globals = cache.indices(m, plan.globalsBefore, plan.tokens);
        KvCache.Indices after = cache.indices(m, plan.after, plan.tokens);
        int h = config.numHeads();
        int kv = config.numKvHeads();
        int d = config.headDim();
        for (int l = 0; l < config.numLayers(); l++) {
            // one scope per half layer (attention, MLP): its activations are freed before the next half runs, so a
            // step holds half a layer's worth, not all layers' (a 512-token prefill of SmolLM2-135M otherwise holds
            // ~2 GB; on demo-llama a whole layer's scope held ≈ 23 MB, the attention half ≈ 12). Ops land in the
            // manager of the array they are called on: the half's input moves in (and goes with it: its output holds
            // the residual), its output moves out
            try (NDManager half = m.newSubManager()) {
                x.attach(half);
                NDArray xn = inputNorm[l].apply(x);
                NDArray heads = qkv[l].apply(ctx, Site.QKV, l, xn, null).reshape(plan.tokens, h + 2 * kv, d);  // [T, H+2KV, D]
                NDArray rotated = rope.rotated(heads);
                NDArray roped = rope.apply(heads, rotated, cs);             // [T, H+2KV, D]: q scaled, q k rotated, v as is
                NDList parts = roped.split(new long[] {h}, 1);             // one op for both views
                NDArray q = parts.get(0);                                  // [T, H, D]
                NDArray kvNew = parts.get(1);                              // [T, 2KV, D]
                cache.write(l, before, kvNew);
                if (globals != null) {
                    cache.write(l, globals, Views.narrow(heads, 1, h, h + 2 * kv));   // keys unrotated
                }
                NDArray qGlobal = csGlobal == null ? null : Views.narrow(rope.apply(heads, rotated, csGlobal), 1, 0, h);
                List<NDArray> outs = new ArrayList<>(layouts.size());
                for (LayoutArrays lay : layouts) {
                    outs.add(attention(half, lay, l, q, qGlobal, kvNew, cache));                  // [B Q, H D]
                }
                NDArray padded = outs.size() == 1 ? outs.get(0) : NDArrays.concat(new NDList(outs), 0);
                NDArray attn = padded;                                     // [T, H D]
                if (unpadIdx != null) {
                    // the gather lands in the index's (step's) manager: back into the half's, or the o_proj computed
                    // from it would stay until the step ends
                    attn = Rows.select(padded, unpadIdx);
                    attn.attach(half);
                }
                cache.write(l, after, kvNew);
                x = o[l].apply(ctx, Site.O, l, attn, x);
                x.attach(m);
            }
            try (NDManager half = m.newSubManager()) {
                x.attach(half);
                x = mlp.forward(l, postNorm[l].apply(x), x, ctx);
                x.attach(m);
            }
        }
        NDArray last = isEveryRow(logitRows, plan.tokens) ? x : Rows.select(x, m.create(logitRows));
        return finalNorm.apply(last).matMul(lmHead).toType(DataType.FLOAT32, false);
    }

    /** Whether a mask hides anything (decode rows of equal length hide nothing: the add is skipped). */
    private static boolean masks(float[] mask) {
        for (float v : mask) {
            if (v != 0f) {
                return true;
            }
        }
        return false;
    }

    private static boolean isEveryRow(long[] rows, int tokens) {
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] != i) {
                return false;
            }
        }
        return rows.length == tokens;
    }

    /** A layout's step-scoped arrays: its mask (null: hides nothing), packed -> padded index and gathered slots (or nulls). */
    private record LayoutArrays(StepPlan.Layout plan, NDArray mask, NDArray padIdx, NDArray slots) {
    }

    /** Attention of one layout's rows: [B Q, H D] in padded order. q comes scaled by 1/sqrt(D) (see {@link Rope}). */
    private NDArray attention(NDManager m, LayoutArrays layout, int layer, NDArray q, NDArray qGlobal, NDArray kvNew,
                              KvCache cache) {
        StepPlan.Layout plan = layout.plan();
        NDArray padIdx = layout.padIdx();
        int b = plan.batch;
        int qm = plan.qMax;
        int h = config.numHeads();
        int kv = config.numKvHeads();
        int g = config.kvGroups();
        int d = config.headDim();
        List<NDArray> scores = new ArrayList<>(3);
        List<NDArray> vals = new ArrayList<>(3);
        if (plan.globals > 0) {
            NDArray[] gkv = keysValues(cache.read(m, layer, layout.slots(), b, 0, plan.globals));
            scores.add(toHeadGroups(pad(qGlobal, padIdx), b, qm).matMul(gkv[0]));
            vals.add(gkv[1]);
        }
        NDArray q5 = toHeadGroups(pad(q, padIdx), b, qm);                                   // [B, KV, gQ, D]
        NDArray[] kvs = keysValues(cache.read(m, layer, layout.slots(), b, 0, plan.kvCols));
        scores.add(q5.matMul(kvs[0]));                                                      // [B, KV, gQ, kv]
        vals.add(kvs[1]);
        if (plan.newCols > 0) {
            NDArray[] own = keysValues(pad(kvNew, padIdx).reshape(b, qm, 2 * kv, d));
            scores.add(q5.matMul(own[0]));
            vals.add(own[1]);
        }
        NDArray s = scores.size() == 1 ? scores.get(0) : concatColumns(scores);
        NDArray p;
        if (layout.mask() == null) {
            p = s.toType(DataType.FLOAT32, false).softmax(3).toType(dtype, false);
        } else {
            int cols = plan.columns();
            p = s.reshape(b, kv, g, qm, cols).toType(DataType.FLOAT32, false).add(layout.mask()).softmax(4)
                    .toType(dtype, false).reshape(b, kv, g * qm, cols);
        }
        NDArray out = null;
        int from = 0;
        for (NDArray val : vals) {
            int w = (int) val.getShape().get(2);
            NDArray part = (vals.size() == 1 ? p : Views.narrow(p, 3, from, from + w)).matMul(val);   // [B, KV, gQ, D]
            out = out == null ? part : out.add(part);
            from += w;
        }
        // one query a row: [B, KV, g, D] is already each row's heads in order
        return qm == 1 ? out.reshape(b, h * d) : out.reshape(b, kv, g, qm, d).transpose(0, 3, 1, 2, 4).reshape(b * qm, h * d);
    }

    /** [B, n, 2KV, D] keys and values -> keys transposed [B, KV, D, n] and values [B, KV, n, D] (views). */
    private NDArray[] keysValues(NDArray kvs) {
        NDList parts = kvs.split(new long[] {config.numKvHeads()}, 2);
        return new NDArray[] {parts.get(0).transpose(0, 2, 3, 1), parts.get(1).transpose(0, 2, 1, 3)};
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
        if (qm == 1) {
            return x.reshape(b, kv, g, d);
        }
        return x.reshape(b, qm, kv, g, d).transpose(0, 2, 3, 1, 4).reshape(b, kv, g * qm, d);
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
