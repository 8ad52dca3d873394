package io.tessera.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.tessera.engine.safetensors.CheckpointException;
import io.tessera.engine.safetensors.SafetensorsFile;
import io.tessera.engine.safetensors.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Random weights of a config.json's shape: the tensor set of a real HF checkpoint, listed without generating anything. */
class RandomWeightsTest {
    private static final Path SHAPES = Path.of("testdata/shapes");

    @TempDir
    Path dir;

    /** The fixtures are real HF exports (Llama untied, Qwen2 tied with q/k/v biases): the same names and shapes. */
    @ParameterizedTest
    @ValueSource(strings = {"llama-tiny", "qwen2-tiny"})
    void theTensorSetOfARealCheckpoint(String model) {
        Path modelDir = Path.of("testdata/fixtures/models", model);
        RandomWeights random = RandomWeights.load(modelDir.resolve("config.json"), 1);
        try (SafetensorsFile real = SafetensorsFile.open(modelDir.resolve("model.safetensors"))) {
            Map<String, String> expected = new TreeMap<>(real.tensors().values().stream()
                    .collect(Collectors.toMap(TensorInfo::name, TensorInfo::shapeString)));
            Map<String, String> actual = new TreeMap<>(random.shapes().entrySet().stream()
                    .collect(Collectors.toMap(Map.Entry::getKey, e -> shapeString(e.getValue()))));
            assertThat(actual).isEqualTo(expected);
        }
    }

    @Test
    void smolLm2() {
        RandomWeights w = RandomWeights.load(SHAPES.resolve("smollm2-135m.json"), 1);
        ModelConfig c = w.config();
        assertThat(c.family()).isEqualTo(ModelConfig.Family.LLAMA);
        assertThat(c.headDim()).isEqualTo(64);
        assertThat(c.kvGroups()).isEqualTo(3);
        assertThat(c.tieWordEmbeddings()).isTrue();
        assertThat(w.shapes()).hasSize(1 + 30 * 9 + 1)
                .doesNotContainKey("lm_head.weight")
                .noneSatisfy((name, shape) -> assertThat(name).endsWith(".bias"));
        assertThat(w.shapes().get("model.embed_tokens.weight")).containsExactly(49152, 576);
        assertThat(w.shapes().get("model.layers.29.self_attn.q_proj.weight")).containsExactly(576, 576);
        assertThat(w.shapes().get("model.layers.29.self_attn.k_proj.weight")).containsExactly(192, 576);
        assertThat(w.shapes().get("model.layers.29.mlp.down_proj.weight")).containsExactly(576, 1536);
        assertThat(parameters(w)).isEqualTo(134_515_008L);   // SmolLM2-135M's published count
    }

    @Test
    void qwen25() {
        RandomWeights w = RandomWeights.load(SHAPES.resolve("qwen2.5-0.5b.json"), 1);
        ModelConfig c = w.config();
        assertThat(c.family()).isEqualTo(ModelConfig.Family.QWEN2);
        assertThat(c.headDim()).isEqualTo(64);
        assertThat(c.ropeTheta()).isEqualTo(1_000_000.0);
        assertThat(w.shapes()).hasSize(1 + 24 * 12 + 1).doesNotContainKey("lm_head.weight")
                .doesNotContainKey("model.layers.0.self_attn.o_proj.bias");
        assertThat(w.shapes().get("model.layers.0.self_attn.q_proj.bias")).containsExactly(896);
        assertThat(w.shapes().get("model.layers.23.self_attn.v_proj.bias")).containsExactly(128);
        assertThat(w.shapes().get("model.layers.23.self_attn.v_proj.weight")).containsExactly(128, 896);
        assertThat(w.shapes().get("model.layers.23.mlp.gate_proj.weight")).containsExactly(4864, 896);
        assertThat(parameters(w)).isEqualTo(494_032_768L);   // Qwen2.5-0.5B's published count
    }

    /**
     * The weights' storage counted once: tied embeddings and every projection also have a transposed view in the
     * model's manager. What the model stores beyond the checkpoint: each RMSNorm as [w, w] and zeros [2E] (4E
     * floats instead of E), the rotation [D, D] of RoPE.
     */
    @Test
    void weightBytesCountEachStorageOnce() {
        RandomWeights w = RandomWeights.load(Path.of("testdata/fixtures/models/qwen2-tiny/config.json"), 1);
        ModelConfig c = w.config();
        assertThat(c.tieWordEmbeddings()).isTrue();
        long norms = 2L * c.numLayers() + 1;
        long floats = parameters(w) + norms * 3 * c.hiddenSize() + (long) c.headDim() * c.headDim();
        try (NDManager m = NDManager.newBaseManager(Device.cpu()); DecoderModel model = DecoderModel.load(c, w, m, DataType.FLOAT32)) {
            assertThat(model.weightBytes()).isEqualTo(4 * floats);
        }
    }

    @Test
    void valuesDependOnSeedAndNameOnlyAndNormsAreOne() {
        RandomWeights a = RandomWeights.load(Path.of("testdata/fixtures/models/qwen2-tiny/config.json"), 7);
        RandomWeights b = RandomWeights.load(Path.of("testdata/fixtures/models/qwen2-tiny/config.json"), 7);
        long[] shape = a.shapes().get("model.layers.1.self_attn.q_proj.weight");
        float[] first = a.read("model.layers.1.self_attn.q_proj.weight", shape);
        assertThat(b.read("model.layers.1.self_attn.q_proj.weight", shape)).isEqualTo(first);
        assertThat(a.read("model.layers.0.self_attn.q_proj.weight", shape)).isNotEqualTo(first);
        double sum = 0;
        double squares = 0;
        for (float v : first) {
            assertThat(Math.abs(v)).isLessThanOrEqualTo((float) (RandomWeights.STD * Math.sqrt(3)));
            sum += v;
            squares += v * v;
        }
        assertThat(sum / first.length).isCloseTo(0, org.assertj.core.data.Offset.offset(0.003));
        assertThat(Math.sqrt(squares / first.length)).isCloseTo(RandomWeights.STD, org.assertj.core.data.Offset.offset(0.002));
        assertThat(a.read("model.norm.weight", a.shapes().get("model.norm.weight"))).containsOnly(1f);
        assertThatThrownBy(() -> a.read("model.norm.weight", 3)).isInstanceOf(CheckpointException.class).hasMessageContaining("shape");
    }

    /** The first values of one stream, as tools/peer/to_gguf.py computes them (it must produce the same weights). */
    @Test
    void theStreamThePeerConverterRepeats() {
        float[] v = new float[3];
        RandomWeights.fill(v, RandomWeights.base(1, "model.norm.weight"), 0.02);
        assertThat(v).containsExactly(-0.026210038f, 0.018252531f, 0.013345351f);
    }

    @Test
    void boundsNameTheField() throws Exception {
        String tiny = Files.readString(Path.of("testdata/fixtures/models/llama-tiny/config.json"));
        assertThatThrownBy(() -> load(tiny.replaceFirst("\"hidden_size\": *\\d+", "\"hidden_size\": 1000000")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("hidden_size 1000000 is over the limit of 32768");
        assertThatThrownBy(() -> load(tiny.replaceFirst("\"vocab_size\": *\\d+", "\"vocab_size\": 99999999999")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("vocab_size 99999999999 is over the limit");
        assertThatThrownBy(() -> load(tiny.replaceFirst("\"num_hidden_layers\": *\\d+", "\"num_hidden_layers\": -2")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("num_hidden_layers must be a positive integer");
        // each field within bounds, all of them together far over: 512 layers of 32768 x 131072 x 3
        assertThatThrownBy(() -> load(tiny.replaceFirst("\"num_hidden_layers\": *\\d+", "\"num_hidden_layers\": 512")
                .replaceFirst("\"hidden_size\": *\\d+", "\"hidden_size\": 32768")
                .replaceFirst("\"num_attention_heads\": *\\d+", "\"num_attention_heads\": 256")
                .replaceFirst("\"intermediate_size\": *\\d+", "\"intermediate_size\": 131072")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("more elements than one array holds");
        assertThatThrownBy(() -> load(tiny.replaceFirst("\"num_hidden_layers\": *\\d+", "\"num_hidden_layers\": 512")
                .replaceFirst("\"hidden_size\": *\\d+", "\"hidden_size\": 8192")
                .replaceFirst("\"num_attention_heads\": *\\d+", "\"num_attention_heads\": 64")
                .replaceFirst("\"intermediate_size\": *\\d+", "\"intermediate_size\": 32768")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("MiB in float32, over the limit of 32768 MiB");
        assertThatThrownBy(() -> load(Files.readString(Path.of("testdata/fixtures/models/moge-tiny/config.json"))))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("has no random-weight layout");
        assertThatThrownBy(() -> load("[1, 2]")).isInstanceOf(CheckpointException.class).hasMessageContaining("not a JSON object");
    }

    private RandomWeights load(String json) throws Exception {
        return RandomWeights.load(Files.writeString(dir.resolve("config.json"), json), 1);
    }

    private static long parameters(RandomWeights w) {
        return w.shapes().values().stream().mapToLong(s -> java.util.Arrays.stream(s).reduce(1, Math::multiplyExact)).sum();
    }

    private static String shapeString(long[] shape) {
        return java.util.Arrays.toString(shape);
    }
}
