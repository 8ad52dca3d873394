package io.tessera.engine;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.engine.ModelConfig.Family;
import io.tessera.engine.safetensors.CheckpointException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Weights of an HF config.json's shape generated in memory, so anyone can measure a model's shape without its
 * checkpoint: the tensor names and shapes an HF checkpoint of that architecture has (Llama, Mistral, Qwen2), norms 1
 * and every other value uniform with standard deviation 0.02. A value depends only on the seed, the tensor's name
 * and its index (splitmix64), so a peer writing the same function (tools/peer/to_gguf.py) gets the same weights.
 */
public final class RandomWeights implements Weights {
    /** Standard deviation of the generated values (a uniform on [-a, a] has std a / sqrt 3). */
    public static final double STD = 0.02;

    /** Bounds of a generated model: every field, and all weights together in float32. */
    static final Map<String, Long> FIELD_LIMITS = Map.of("hidden_size", 1L << 15, "intermediate_size", 1L << 17,
            "num_hidden_layers", 512L, "num_attention_heads", 512L, "vocab_size", 1L << 20, "max_position_embeddings", 1L << 18);
    public static final long MAX_TOTAL_BYTES = 32L << 30;
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final Path file;
    private final ModelConfig config;
    private final long seed;
    private final Map<String, long[]> shapes;

    private RandomWeights(Path file, ModelConfig config, long seed, Map<String, long[]> shapes) {
        this.file = file;
        this.config = config;
        this.seed = seed;
        this.shapes = shapes;
    }

    /** Reads and bounds the config file (errors name the field) and lists the tensors; generates nothing yet. */
    public static RandomWeights load(Path configFile, long seed) {
        JsonNode json = ModelConfig.json(configFile);
        FIELD_LIMITS.forEach((field, max) -> {
            JsonNode n = json.get(field);
            if (n != null && n.isIntegralNumber() && n.canConvertToLong() && n.asLong() > max) {
                throw new CheckpointException(configFile + ": " + field + " " + n.asLong() + " is over the limit of " + max
                        + " for a random-weight model");
            }
        });
        ModelConfig config = ModelConfig.parse(configFile, json);
        if (config.family() == Family.MOGE) {
            throw new CheckpointException(configFile + ": model_type '" + config.modelType()
                    + "' has no random-weight layout (supported: llama, mistral, qwen2)");
        }
        if (config.headDim() > 1024) {
            throw new CheckpointException(configFile + ": head_dim " + config.headDim() + " is over the limit of 1024 for a random-weight model");
        }
        Map<String, long[]> shapes = tensors(config, json.path("attention_bias").asBoolean(false));
        long elements = 0;
        for (Map.Entry<String, long[]> t : shapes.entrySet()) {
            long n = Arrays.stream(t.getValue()).reduce(1L, Math::multiplyExact);
            if (n > MAX_ARRAY) {
                throw new CheckpointException(configFile + ": tensor " + t.getKey() + " " + Arrays.toString(t.getValue())
                        + " has more elements than one array holds (" + MAX_ARRAY + ")");
            }
            elements += n;
        }
        if (elements * 4 > MAX_TOTAL_BYTES) {
            throw new CheckpointException(configFile + ": the weights take " + (elements * 4 >> 20) + " MiB in float32, over the limit of "
                    + (MAX_TOTAL_BYTES >> 20) + " MiB for a random-weight model");
        }
        return new RandomWeights(configFile, config, seed, shapes);
    }

    /**
     * The HF tensor names and shapes of a dense decoder: Qwen2 has q/k/v biases, Llama has q/k/v/o biases when
     * attention_bias is set; lm_head only when the embeddings are not tied.
     */
    static Map<String, long[]> tensors(ModelConfig c, boolean attentionBias) {
        long e = c.hiddenSize();
        long hd = (long) c.numHeads() * c.headDim();
        long kvd = (long) c.numKvHeads() * c.headDim();
        long inter = c.intermediateSize();
        boolean qkvBias = c.family() == Family.QWEN2 || attentionBias;
        boolean oBias = c.family() == Family.LLAMA && attentionBias;
        Map<String, long[]> t = new LinkedHashMap<>();
        t.put("model.embed_tokens.weight", new long[] {c.vocabSize(), e});
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            t.put(p + "input_layernorm.weight", new long[] {e});
            t.put(p + "self_attn.q_proj.weight", new long[] {hd, e});
            t.put(p + "self_attn.k_proj.weight", new long[] {kvd, e});
            t.put(p + "self_attn.v_proj.weight", new long[] {kvd, e});
            if (qkvBias) {
                t.put(p + "self_attn.q_proj.bias", new long[] {hd});
                t.put(p + "self_attn.k_proj.bias", new long[] {kvd});
                t.put(p + "self_attn.v_proj.bias", new long[] {kvd});
            }
            t.put(p + "self_attn.o_proj.weight", new long[] {e, hd});
            if (oBias) {
                t.put(p + "self_attn.o_proj.bias", new long[] {e});
            }
            t.put(p + "post_attention_layernorm.weight", new long[] {e});
            t.put(p + "mlp.gate_proj.weight", new long[] {inter, e});
            t.put(p + "mlp.up_proj.weight", new long[] {inter, e});
            t.put(p + "mlp.down_proj.weight", new long[] {e, inter});
        }
        t.put("model.norm.weight", new long[] {e});
        if (!c.tieWordEmbeddings()) {
            t.put("lm_head.weight", new long[] {c.vocabSize(), e});
        }
        return t;
    }

    public ModelConfig config() {
        return config;
    }

    public Path file() {
        return file;
    }

    /** Every tensor's HF name and shape, in checkpoint order. */
    public Map<String, long[]> shapes() {
        return Collections.unmodifiableMap(shapes);
    }

    @Override
    public boolean has(String name) {
        return shapes.containsKey(name);
    }

    @Override
    public float[] read(String name, long... expectedShape) {
        long[] shape = shapes.get(name);
        if (shape == null) {
            throw new CheckpointException(file + ": no tensor " + name + " in a random-weight " + config.modelType() + " model");
        }
        if (!Arrays.equals(shape, expectedShape)) {
            throw new CheckpointException(file + ": tensor " + name + " has shape " + Arrays.toString(shape)
                    + " but the loader expects " + Arrays.toString(expectedShape));
        }
        float[] out = new float[Math.toIntExact(Arrays.stream(shape).reduce(1L, Math::multiplyExact))];
        if (name.endsWith("norm.weight")) {
            Arrays.fill(out, 1f);
        } else {
            fill(out, base(seed, name), STD);
        }
        return out;
    }

    /** The per-tensor stream start: the seed mixed with FNV-1a of the name. */
    static long base(long seed, String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return h ^ (seed * 0xd1b54a32d192ed03L);
    }

    /** out[i] = uniform on [-a, a) from splitmix64(base + (i + 1) golden), a = std * sqrt 3; 24 random bits each. */
    static void fill(float[] out, long base, double std) {
        float scale = (float) (std * Math.sqrt(3) / (1 << 23));
        for (int i = 0; i < out.length; i++) {
            long z = base + (i + 1L) * 0x9e3779b97f4a7c15L;
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            z ^= z >>> 31;
            out[i] = (int) ((z >>> 40) - (1 << 23)) * scale;
        }
    }

    @Override
    public void close() {
        // nothing is held: every read generates its tensor anew
    }
}
