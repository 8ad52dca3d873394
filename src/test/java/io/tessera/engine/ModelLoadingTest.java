package io.tessera.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tessera.engine.safetensors.CheckpointException;
import io.tessera.engine.safetensors.SafetensorsFile;
import io.tessera.engine.safetensors.SafetensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json variants and sharded checkpoints, as Hugging Face publishes them. */
class ModelLoadingTest {
    private static final Path TINY = Path.of("testdata/fixtures/models/llama-tiny");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode tinyConfig() throws Exception {
        return (ObjectNode) JSON.readTree(Files.readString(TINY.resolve("config.json")));
    }

    private static ModelConfig parse(ObjectNode c) {
        return ModelConfig.parse(Path.of("config.json"), c);
    }

    @Test
    void ropeThetaFromTopLevelOrRopeParameters() throws Exception {
        ObjectNode c = tinyConfig();
        c.remove("rope_theta");
        c.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 500000.0);
        assertThat(parse(c).ropeTheta()).isEqualTo(500000.0);
        assertThat(parse(tinyConfig()).ropeTheta()).isEqualTo(10000.0);
    }

    @Test
    void scaledRopeIsRefusedByName() throws Exception {
        ObjectNode c = tinyConfig();
        c.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
        assertThatThrownBy(() -> parse(c)).isInstanceOf(CheckpointException.class)
                .hasMessage("config.json: unsupported rope_scaling type 'yarn' (only default RoPE is implemented)");
    }

    @Test
    void headDimFromConfigElseHiddenOverHeads() throws Exception {
        assertThat(parse(tinyConfig()).headDim()).isEqualTo(16);
        ObjectNode c = tinyConfig();
        c.put("head_dim", 32);
        assertThat(parse(c).headDim()).isEqualTo(32);
    }

    @Test
    void mistralIsALlamaAndEosListsAreRead() throws Exception {
        ObjectNode c = tinyConfig();
        c.put("model_type", "mistral");
        c.putArray("eos_token_id").add(0).add(3);
        ModelConfig m = parse(c);
        assertThat(m.family()).isEqualTo(ModelConfig.Family.LLAMA);
        assertThat(m.eosTokenIds()).containsExactly(0, 3);
    }

    /** The same weights split over two shards with an index give the same logits as the single file. */
    @Test
    void shardedCheckpointLoadsLikeTheSingleFile(@TempDir Path dir) throws Exception {
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(TINY.resolve(f), dir.resolve(f));
        }
        ObjectNode index = JSON.createObjectNode();
        ObjectNode map = index.putObject("weight_map");
        SafetensorsWriter[] shards = {new SafetensorsWriter(), new SafetensorsWriter()};
        try (SafetensorsFile single = SafetensorsFile.open(TINY.resolve("model.safetensors"))) {
            int i = 0;
            for (var t : single.tensors().values()) {
                int s = i++ % 2;
                shards[s].add(t.name(), single.readFloats(t.name()), t.shape());
                map.put(t.name(), "model-0000" + (s + 1) + "-of-00002.safetensors");
            }
        }
        shards[0].write(dir.resolve("model-00001-of-00002.safetensors"));
        shards[1].write(dir.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(dir.resolve("model.safetensors.index.json"), index.toString());
        int[] prompt = {814, 2157, 682, 556, 998};
        assertThat(lastLogits(dir, prompt)).containsExactly(lastLogits(TINY, prompt));
    }

    private static float[] lastLogits(Path model, int[] prompt) {
        try (Engine e = Engine.open(new EngineOptions(model, EngineOptions.Device.CPU, 1, 0))) {
            Sequence s = e.open(AttentionPolicy.FULL, null);
            return e.step(List.of(StepInput.next(s, prompt))).get(0);
        }
    }
}
