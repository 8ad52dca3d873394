package io.tessera.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.TestSupport;
import io.tessera.engine.AttentionPolicy.LmInfinite;
import io.tessera.engine.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's fused, batched, cached forward pass against a plain per-token float64 forward written from the
 * semantics in testdata/fixtures/README.md, on tiny random checkpoints with grouped-query attention (4 query
 * heads over 2 kv heads): a Llama with an explicit head_dim wider than hidden / heads, and a Qwen2 with q/k/v
 * biases and tied embeddings.
 */
class ReferenceForwardTest {
    private static final double TOLERANCE = 1e-4;

    @TempDir
    static Path dir;
    static TinyModel llama;
    static TinyModel qwen2;
    static Engine llamaEngine;
    static Engine qwen2Engine;

    @BeforeAll
    static void writeModels() throws IOException {
        llama = new TinyModel("llama", 8, false, 10000, new Random(1));
        qwen2 = new TinyModel("qwen2", 0, true, 1e6, new Random(2));
        llamaEngine = TestSupport.openCpu(llama.write(dir.resolve("llama")), 4, 0);
        qwen2Engine = TestSupport.openCpu(qwen2.write(dir.resolve("qwen2")), 4, 0);
    }

    @AfterAll
    static void close() {
        llamaEngine.close();
        qwen2Engine.close();
    }

    private static int[] tokens(int n, long seed) {
        return new Random(seed).ints(n, 0, TinyModel.VOCAB).toArray();
    }

    /**
     * Feeds each sequence its tokens in the given chunk sizes, all sequences in the same steps, with every
     * position's logits; returns per sequence [positions * V].
     */
    private static List<float[]> run(Engine engine, List<AttentionPolicy> policies, List<int[]> tokens, int... chunks) {
        List<Sequence> seqs = new ArrayList<>();
        List<float[]> out = new ArrayList<>();
        for (AttentionPolicy p : policies) {
            seqs.add(engine.open(p, null));
            out.add(new float[0]);
        }
        int from = 0;
        for (int chunk : chunks) {
            List<StepInput> step = new ArrayList<>();
            for (int i = 0; i < seqs.size(); i++) {
                step.add(new StepInput(seqs.get(i), Arrays.copyOfRange(tokens.get(i), from, from + chunk), true));
            }
            List<float[]> logits = engine.step(step);
            for (int i = 0; i < seqs.size(); i++) {
                out.set(i, append(out.get(i), logits.get(i)));
            }
            from += chunk;
        }
        seqs.forEach(engine::release);
        return out;
    }

    private static float[] append(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static void assertMatchesReference(TinyModel model, float[] got, int[] tokens, AttentionPolicy policy) {
        assertMatchesReference(model, got, tokens, policy, 0);
    }

    /** got: the engine's logits of positions from..n-1. */
    private static void assertMatchesReference(TinyModel model, float[] got, int[] tokens, AttentionPolicy policy, int from) {
        double[] want = model.logits(tokens, policy);
        assertThat(got).hasSize(want.length - from * TinyModel.VOCAB);
        double max = 0;
        for (int i = 0; i < got.length; i++) {
            max = Math.max(max, Math.abs(got[i] - want[from * TinyModel.VOCAB + i]));
        }
        assertThat(max).as("max |engine - reference| over positions %d..%d", from, tokens.length - 1).isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    void llamaPrefillThenDecodeMatchesTheReference() {
        int[] t = tokens(13, 10);
        float[] got = run(llamaEngine, List.of(AttentionPolicy.FULL), List.of(t), 10, 1, 1, 1).get(0);
        assertMatchesReference(llama, got, t, AttentionPolicy.FULL);
    }

    @Test
    void qwen2WithBiasesAndTiedEmbeddingsMatchesTheReference() {
        int[] t = tokens(13, 11);
        float[] got = run(qwen2Engine, List.of(AttentionPolicy.FULL), List.of(t), 10, 1, 1, 1).get(0);
        assertMatchesReference(qwen2, got, t, AttentionPolicy.FULL);
    }

    @Test
    void fullAndLmInfiniteSequencesInChunkedStepsMatchTheReference() {
        // chunks shorter than, equal to and longer than L, and single tokens, once the ring has wrapped several times
        LmInfinite lambda = new LmInfinite(2, 4, 4);
        int[] a = tokens(24, 12);
        int[] b = tokens(24, 13);
        int[] c = tokens(24, 14);
        List<float[]> got = run(llamaEngine, List.of(AttentionPolicy.FULL, lambda, lambda), List.of(a, b, c), 7, 1, 3, 4, 6, 1, 2);
        assertMatchesReference(llama, got.get(0), a, AttentionPolicy.FULL);
        assertMatchesReference(llama, got.get(1), b, lambda);
        assertMatchesReference(llama, got.get(2), c, lambda);
    }

    @Test
    void releasingASequenceMidwayKeepsTheOthersCaches() {
        // releasing slot 0 moves the highest slot's cache into it; both survivors must carry on unchanged
        LmInfinite lambda = new LmInfinite(2, 4, 4);
        List<AttentionPolicy> policies = List.of(AttentionPolicy.FULL, AttentionPolicy.FULL, lambda);
        List<int[]> tokens = List.of(tokens(12, 15), tokens(12, 16), tokens(12, 17));
        List<Sequence> seqs = new ArrayList<>();
        List<StepInput> prefill = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            seqs.add(llamaEngine.open(policies.get(i), null));
            prefill.add(new StepInput(seqs.get(i), Arrays.copyOf(tokens.get(i), 8), true));
        }
        llamaEngine.step(prefill);
        llamaEngine.release(seqs.get(0));
        float[][] got = {null, new float[0], new float[0]};
        for (int t = 8; t < 12; t++) {
            List<float[]> logits = llamaEngine.step(List.of(StepInput.next(seqs.get(1), tokens.get(1)[t]),
                    StepInput.next(seqs.get(2), tokens.get(2)[t])));
            got[1] = append(got[1], logits.get(0));
            got[2] = append(got[2], logits.get(1));
        }
        llamaEngine.release(seqs.get(1));
        llamaEngine.release(seqs.get(2));
        assertMatchesReference(llama, got[1], tokens.get(1), policies.get(1), 8);
        assertMatchesReference(llama, got[2], tokens.get(2), policies.get(2), 8);
    }

    /** A random decoder written as a HF checkpoint, and the plain float64 forward pass of it. */
    static final class TinyModel {
        static final int VOCAB = 48;
        static final int HIDDEN = 16;
        static final int HEADS = 4;
        static final int KV_HEADS = 2;
        static final int LAYERS = 2;
        static final int INTER = 24;
        static final double EPS = 1e-5;

        final String type;
        final int headDim;
        final boolean tied;
        final double theta;
        final boolean biased;
        final Map<String, float[]> w = new LinkedHashMap<>();
        final Map<String, long[]> shapes = new LinkedHashMap<>();

        /** headDim 0: hidden / heads, taken from config.json's absence of head_dim. */
        TinyModel(String type, int headDim, boolean tied, double theta, Random rnd) {
            this.type = type;
            this.headDim = headDim > 0 ? headDim : HIDDEN / HEADS;
            this.tied = tied;
            this.theta = theta;
            this.biased = type.equals("qwen2");
            int q = HEADS * this.headDim;
            int kv = KV_HEADS * this.headDim;
            add(rnd, "model.embed_tokens.weight", 1, 0, VOCAB, HIDDEN);
            if (!tied) {
                add(rnd, "lm_head.weight", 1 / Math.sqrt(HIDDEN), 0, VOCAB, HIDDEN);
            }
            add(rnd, "model.norm.weight", 0.1, 1, HIDDEN);
            for (int l = 0; l < LAYERS; l++) {
                String p = "model.layers." + l + ".";
                add(rnd, p + "input_layernorm.weight", 0.1, 1, HIDDEN);
                add(rnd, p + "post_attention_layernorm.weight", 0.1, 1, HIDDEN);
                add(rnd, p + "self_attn.q_proj.weight", 1 / Math.sqrt(HIDDEN), 0, q, HIDDEN);
                add(rnd, p + "self_attn.k_proj.weight", 1 / Math.sqrt(HIDDEN), 0, kv, HIDDEN);
                add(rnd, p + "self_attn.v_proj.weight", 1 / Math.sqrt(HIDDEN), 0, kv, HIDDEN);
                if (biased) {
                    add(rnd, p + "self_attn.q_proj.bias", 0.1, 0, q);
                    add(rnd, p + "self_attn.k_proj.bias", 0.1, 0, kv);
                    add(rnd, p + "self_attn.v_proj.bias", 0.1, 0, kv);
                }
                add(rnd, p + "self_attn.o_proj.weight", 1 / Math.sqrt(q), 0, HIDDEN, q);
                add(rnd, p + "mlp.gate_proj.weight", 1 / Math.sqrt(HIDDEN), 0, INTER, HIDDEN);
                add(rnd, p + "mlp.up_proj.weight", 1 / Math.sqrt(HIDDEN), 0, INTER, HIDDEN);
                add(rnd, p + "mlp.down_proj.weight", 1 / Math.sqrt(INTER), 0, HIDDEN, INTER);
            }
        }

        private void add(Random rnd, String name, double std, double mean, long... shape) {
            int n = 1;
            for (long d : shape) {
                n *= (int) d;
            }
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) (mean + std * rnd.nextGaussian());
            }
            w.put(name, v);
            shapes.put(name, shape);
        }

        Path write(Path to) throws IOException {
            Files.createDirectories(to);
            Files.writeString(to.resolve("config.json"), """
                    {"model_type": "%s", "vocab_size": %d, "hidden_size": %d, "intermediate_size": %d,
                     "num_hidden_layers": %d, "num_attention_heads": %d, "num_key_value_heads": %d, %s
                     "rms_norm_eps": %s, "rope_theta": %s, "max_position_embeddings": 64,
                     "tie_word_embeddings": %s, "hidden_act": "silu"}
                    """.formatted(type, VOCAB, HIDDEN, INTER, LAYERS, HEADS, KV_HEADS,
                    headDim != HIDDEN / HEADS ? "\"head_dim\": " + headDim + "," : "", EPS, theta, tied));
            SafetensorsWriter st = new SafetensorsWriter();
            w.forEach((name, v) -> st.add(name, v, shapes.get(name)));
            st.write(to.resolve("model.safetensors"));
            return to;
        }

        /** Logits at every position, [n * V], one token at a time with nothing fused, cached or batched. */
        double[] logits(int[] tokens, AttentionPolicy policy) {
            int n = tokens.length;
            double[][] h = new double[n][];
            float[] emb = w.get("model.embed_tokens.weight");
            for (int t = 0; t < n; t++) {
                h[t] = new double[HIDDEN];
                for (int i = 0; i < HIDDEN; i++) {
                    h[t][i] = emb[tokens[t] * HIDDEN + i];
                }
            }
            for (int l = 0; l < LAYERS; l++) {
                String p = "model.layers." + l + ".";
                double[][] q = new double[n][];
                double[][] k = new double[n][];
                double[][] v = new double[n][];
                for (int t = 0; t < n; t++) {
                    double[] x = rmsNorm(h[t], w.get(p + "input_layernorm.weight"));
                    q[t] = linear(p + "self_attn.q_proj", x);
                    k[t] = linear(p + "self_attn.k_proj", x);
                    v[t] = linear(p + "self_attn.v_proj", x);
                }
                double[][] next = new double[n][];
                for (int t = 0; t < n; t++) {
                    double[] attn = new double[HEADS * headDim];
                    for (int head = 0; head < HEADS; head++) {
                        // GQA: query head h reads kv head h / (heads / kv_heads)
                        int kvHead = head / (HEADS / KV_HEADS);
                        attend(policy, t, slice(q[t], head), k, v, kvHead, attn, head * headDim);
                    }
                    double[] o = linear(p + "self_attn.o_proj", attn);
                    double[] x = new double[HIDDEN];
                    for (int i = 0; i < HIDDEN; i++) {
                        x[i] = h[t][i] + o[i];
                    }
                    double[] xn = rmsNorm(x, w.get(p + "post_attention_layernorm.weight"));
                    double[] gate = linear(p + "mlp.gate_proj", xn);
                    double[] up = linear(p + "mlp.up_proj", xn);
                    double[] act = new double[INTER];
                    for (int i = 0; i < INTER; i++) {
                        act[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                    }
                    double[] down = linear(p + "mlp.down_proj", act);
                    for (int i = 0; i < HIDDEN; i++) {
                        x[i] += down[i];
                    }
                    next[t] = x;
                }
                h = next;
            }
            float[] head = w.get(tied ? "model.embed_tokens.weight" : "lm_head.weight");
            double[] out = new double[n * VOCAB];
            for (int t = 0; t < n; t++) {
                double[] x = rmsNorm(h[t], w.get("model.norm.weight"));
                for (int o = 0; o < VOCAB; o++) {
                    double s = 0;
                    for (int i = 0; i < HIDDEN; i++) {
                        s += head[o * HIDDEN + i] * x[i];
                    }
                    out[t * VOCAB + o] = s;
                }
            }
            return out;
        }

        /** One query head at position t over keys 0..t: full causal, or LM-Infinite's local and global branches. */
        private void attend(AttentionPolicy policy, int t, double[] q, double[][] k, double[][] v, int kvHead,
                            double[] out, int at) {
            double[] score = new double[t + 1];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j <= t; j++) {
                double[] key = slice(k[j], kvHead);
                if (!(policy instanceof LmInfinite li) || t - j < li.nLocal()) {
                    score[j] = dot(rope(q, t), rope(key, j));
                } else if (j < li.nGlobal()) {
                    score[j] = dot(rope(q, Math.min(li.maxDistance(), t)), key);
                } else {
                    score[j] = Double.NEGATIVE_INFINITY;
                }
                score[j] /= Math.sqrt(headDim);
                max = Math.max(max, score[j]);
            }
            double sum = 0;
            for (int j = 0; j <= t; j++) {
                score[j] = Math.exp(score[j] - max);
                sum += score[j];
            }
            for (int j = 0; j <= t; j++) {
                double[] val = slice(v[j], kvHead);
                for (int d = 0; d < headDim; d++) {
                    out[at + d] += score[j] / sum * val[d];
                }
            }
        }

        private double[] slice(double[] heads, int head) {
            return Arrays.copyOfRange(heads, head * headDim, (head + 1) * headDim);
        }

        /** Half-split rotation: pairs (i, i + D/2) by the angle p * theta^(-2i/D). */
        private double[] rope(double[] x, int p) {
            int half = headDim / 2;
            double[] r = new double[headDim];
            for (int i = 0; i < half; i++) {
                double a = p * Math.pow(theta, -2.0 * i / headDim);
                r[i] = x[i] * Math.cos(a) - x[i + half] * Math.sin(a);
                r[i + half] = x[i + half] * Math.cos(a) + x[i] * Math.sin(a);
            }
            return r;
        }

        private double[] linear(String module, double[] x) {
            float[] m = w.get(module + ".weight");
            float[] b = w.get(module + ".bias");
            int out = m.length / x.length;
            double[] y = new double[out];
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int i = 0; i < x.length; i++) {
                    s += m[o * x.length + i] * x[i];
                }
                y[o] = s;
            }
            return y;
        }

        private static double[] rmsNorm(double[] x, float[] g) {
            double ms = 0;
            for (double v : x) {
                ms += v * v;
            }
            double r = Math.sqrt(ms / x.length + EPS);
            double[] y = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                y[i] = g[i] * x[i] / r;
            }
            return y;
        }

        private static double dot(double[] a, double[] b) {
            double s = 0;
            for (int i = 0; i < a.length; i++) {
                s += a[i] * b[i];
            }
            return s;
        }
    }
}
