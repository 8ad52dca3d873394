package io.tessera.engine.adapter;

import static io.tessera.TestSupport.FIXTURES;
import static io.tessera.TestSupport.LLAMA_TINY;
import static io.tessera.TestSupport.assertOneLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.TestSupport;
import io.tessera.TestSupport.RawSafetensors;
import io.tessera.engine.Engine;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Adapters that cannot be served exactly are refused with an AdapterException naming the file and the reason:
 * each test changes one thing in a copy of the llama-tiny lora-qv fixture (r = 4 on q_proj and v_proj).
 */
class AdapterRefusalTest {
    private static final String Q_A = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
    private static final String V_B = "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight";

    static Engine engine;
    static AdapterLoader loader;

    @TempDir
    Path dir;
    Path config;
    Path weights;

    @BeforeAll
    static void openBase() {
        engine = TestSupport.openCpu(LLAMA_TINY, 1, 0);
        loader = new AdapterLoader(engine.model());
    }

    @AfterAll
    static void closeBase() {
        engine.close();
    }

    @BeforeEach
    void copyFixture() {
        TestSupport.copyDir(FIXTURES.resolve("adapters/llama-tiny/lora-qv"), dir);
        config = dir.resolve("adapter_config.json");
        weights = dir.resolve("adapter_model.safetensors");
    }

    private void assertRefused(Path file, String... reason) {
        assertThatThrownBy(() -> loader.load(dir))
                .isExactlyInstanceOf(AdapterException.class)
                .satisfies(e -> assertOneLine(e, file, reason));
    }

    @Test
    void theUnmodifiedCopyLoads() {
        LoraAdapter a = (LoraAdapter) loader.load(dir);
        assertThat(a.modules()).containsOnlyKeys("0.q_proj", "0.v_proj", "1.q_proj", "1.v_proj");
    }

    @Test
    void pickleNextToTheSafetensorsIsRefused() throws IOException {
        // a pickle that runs a shell command when unpickled: its mere presence refuses the directory
        Path bin = dir.resolve("adapter_model.bin");
        Files.write(bin, "\u0080\u0004cposix\nsystem\n(S'touch pwned'\ntR.".getBytes(StandardCharsets.ISO_8859_1));
        assertRefused(bin, "pickle files are never loaded");
    }

    @Test
    void fanInFanOutIsRefused() throws IOException {
        TestSupport.editJson(config, c -> c.put("fan_in_fan_out", true));
        assertRefused(config, "fan_in_fan_out is true");
    }

    @Test
    void modulesToSaveIsRefused() throws IOException {
        TestSupport.editJson(config, c -> c.putArray("modules_to_save").add("lm_head"));
        assertRefused(config, "modules_to_save [\"lm_head\"] is not supported");
    }

    @Test
    void targetingTheEmbeddingIsRefused() throws IOException {
        TestSupport.editJson(config, c -> c.putArray("target_modules").add("q_proj").add("v_proj").add("embed_tokens"));
        assertRefused(config, "target embed_tokens", "not supported");
    }

    @Test
    void lmHeadWeightsInTheFileAreRefused() throws IOException {
        RawSafetensors st = RawSafetensors.read(weights);
        // one more tensor after the last, as PEFT saves a LoRA on lm_head
        String name = "base_model.model.lm_head.lora_A.weight";
        int end = st.data().length;
        st.header().putObject(name).put("dtype", "F32").putArray("shape").add(1).add(64);
        st.setOffsets(name, end, end + 256);
        new RawSafetensors(st.header(), TestSupport.concat(st.data(), new byte[256])).write(weights);
        assertRefused(weights, "tensor " + name, "targets the embedding or lm_head");
    }

    @Test
    void targetModulesMatchingNoModuleAreRefused() throws IOException {
        TestSupport.editJson(config, c -> c.putArray("target_modules").add("query_key_value"));
        assertRefused(config, "target_modules [\"query_key_value\"] match no module of the base model");
    }

    @Test
    void loraShapeThatDoesNotFitTheBaseIsRefused() throws IOException {
        RawSafetensors st = RawSafetensors.read(weights);
        // same byte length as [4, 64], so only the base model's q_proj can tell
        st.tensor(Q_A).putArray("shape").add(8).add(32);
        st.write(weights);
        assertRefused(weights, "tensor " + Q_A + " has shape [8, 32] but the base model needs [4, 64]");
    }

    @ParameterizedTest
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
    void nonFiniteWeightsAreRefused(float bad) throws IOException {
        RawSafetensors st = RawSafetensors.read(weights);
        ByteBuffer.wrap(st.data()).order(ByteOrder.LITTLE_ENDIAN).putFloat((int) st.begin(V_B) + 12, bad);
        st.write(weights);
        assertRefused(weights, "tensor " + V_B + " contains NaN or Inf");
    }

    @Test
    void unknownPeftTypeIsRefused() throws IOException {
        TestSupport.editJson(config, c -> c.put("peft_type", "IA3"));
        assertRefused(config, "unsupported peft_type 'IA3'");
    }
}
