package io.tessera.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.engine.safetensors.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The decoder's shape, read from a Hugging Face config.json. {@code moe} is present only for PanguProMoE.
 *
 * @param family      llama (also mistral), qwen2 or moge; they differ only in which biases exist and the MLP
 * @param headDim     from config when present, else hidden / heads
 */
public record ModelConfig(String modelType, Family family, int vocabSize, int hiddenSize, int intermediateSize,
                          int numLayers, int numHeads, int numKvHeads, int headDim, double rmsNormEps,
                          double ropeTheta, int maxPositionEmbeddings, boolean tieWordEmbeddings,
                          Set<Integer> eosTokenIds, Optional<MoeConfig> moe) {

    public enum Family { LLAMA, QWEN2, MOGE }

    /** Mixture of Grouped Experts: E experts in M equal groups, top (k / M) per group. */
    public record MoeConfig(int numExperts, int numExpertGroups, int expertsPerToken, int moeIntermediateSize,
                            int sharedIntermediateSize) {
        public int expertsPerGroup() {
            return numExperts / numExpertGroups;
        }

        public int topPerGroup() {
            return expertsPerToken / numExpertGroups;
        }
    }

    /** KV bytes of one position: keys and values of every layer. */
    public long kvBytesPerEntry(int elementBytes) {
        return 2L * numLayers * numKvHeads * headDim * elementBytes;
    }

    public int kvGroups() {
        return numHeads / numKvHeads;
    }

    /** A config.json is a few kilobytes; one larger than this is not a model's. */
    static final long MAX_FILE_BYTES = 1 << 20;

    public static ModelConfig load(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        return parse(file, json(file));
    }

    /** The file's JSON object, size-bounded before it is read. */
    static JsonNode json(Path file) {
        JsonNode c;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new CheckpointException(file + ": " + size + " bytes, over the limit of " + MAX_FILE_BYTES + " for a config.json");
            }
            c = new ObjectMapper().readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + ": file not found");
        } catch (IOException e) {
            throw new CheckpointException(file + ": not valid JSON (" + firstLine(e.getMessage()) + ")");
        }
        if (c == null || !c.isObject()) {
            throw new CheckpointException(file + ": not a JSON object");
        }
        return c;
    }

    static ModelConfig parse(Path file, JsonNode c) {
        String type = c.path("model_type").asText("");
        Family family = switch (type) {
            case "llama", "mistral" -> Family.LLAMA;
            case "qwen2" -> Family.QWEN2;
            case "PanguProMoE", "pangu_pro_moe" -> Family.MOGE;
            default -> throw new CheckpointException(file + ": unsupported model_type '" + type
                    + "' (supported: llama, mistral, qwen2, PanguProMoE)");
        };
        int hidden = positive(file, c, "hidden_size");
        int heads = positive(file, c, "num_attention_heads");
        int kvHeads = c.has("num_key_value_heads") && !c.get("num_key_value_heads").isNull()
                ? positive(file, c, "num_key_value_heads") : heads;
        if (heads % kvHeads != 0) {
            throw new CheckpointException(file + ": num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        int headDim = c.hasNonNull("head_dim") ? positive(file, c, "head_dim") : hidden / heads;
        if (headDim % 2 != 0) {
            throw new CheckpointException(file + ": head_dim " + headDim + " must be even for RoPE");
        }
        Optional<MoeConfig> moe = Optional.empty();
        int intermediate;
        if (family == Family.MOGE) {
            MoeConfig m = new MoeConfig(positive(file, c, "num_experts"), positive(file, c, "num_expert_groups"),
                    positive(file, c, "num_experts_per_tok"), positive(file, c, "moe_intermediate_size"),
                    positive(file, c, "shared_expert_intermediate_size"));
            if (m.numExperts() % m.numExpertGroups() != 0 || m.expertsPerToken() % m.numExpertGroups() != 0) {
                throw new CheckpointException(file + ": num_experts and num_experts_per_tok must be multiples of num_expert_groups");
            }
            moe = Optional.of(m);
            intermediate = m.moeIntermediateSize();
        } else {
            intermediate = positive(file, c, "intermediate_size");
        }
        String act = c.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new CheckpointException(file + ": unsupported hidden_act '" + act + "' (supported: silu)");
        }
        return new ModelConfig(type, family, positive(file, c, "vocab_size"), hidden, intermediate,
                positive(file, c, "num_hidden_layers"), heads, kvHeads, headDim,
                c.path("rms_norm_eps").asDouble(1e-6), ropeTheta(file, c),
                c.path("max_position_embeddings").asInt(2048), c.path("tie_word_embeddings").asBoolean(false),
                eosIds(c.get("eos_token_id")), moe);
    }

    /** rope_theta at top level or (transformers 5) inside rope_parameters; scaled RoPE variants are refused. */
    private static double ropeTheta(Path file, JsonNode c) {
        JsonNode params = c.get("rope_parameters");
        for (JsonNode scaling : new JsonNode[] {c.get("rope_scaling"), params}) {
            if (scaling != null && scaling.isObject()) {
                String kind = scaling.hasNonNull("rope_type") ? scaling.get("rope_type").asText()
                        : scaling.path("type").asText("default");
                if (!kind.equals("default")) {
                    throw new CheckpointException(file + ": unsupported rope_scaling type '" + kind + "' (only default RoPE is implemented)");
                }
            }
        }
        if (c.hasNonNull("rope_theta")) {
            return c.get("rope_theta").asDouble();
        }
        if (params != null && params.hasNonNull("rope_theta")) {
            return params.get("rope_theta").asDouble();
        }
        return 10000.0;
    }

    static Set<Integer> eosIds(JsonNode node) {
        Set<Integer> ids = new LinkedHashSet<>();
        if (node != null && node.isIntegralNumber()) {
            ids.add(node.asInt());
        } else if (node != null && node.isArray()) {
            node.forEach(n -> ids.add(n.asInt()));
        }
        return ids;
    }

    private static int positive(Path file, JsonNode c, String key) {
        JsonNode n = c.get(key);
        if (n == null || !n.isIntegralNumber() || n.asLong() <= 0 || n.asLong() > Integer.MAX_VALUE) {
            throw new CheckpointException(file + ": " + key + " must be a positive integer (got " + n + ")");
        }
        return n.asInt();
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
