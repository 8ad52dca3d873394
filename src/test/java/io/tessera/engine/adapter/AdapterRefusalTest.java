package io.tessera.engine.adapter;

import static io.tessera.TestSupport.FIXTURES;
import static io.tessera.TestSupport.LLAMA_TINY;
import static io.tessera.TestSupport.assertOneLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.tessera.TestSupport;
import io.tessera.TestSupport.RawSafetensors;
import io.tessera.engine.Engine;
import io.tessera.engine.safetensors.SafetensorsFile;
import io.tessera.engine.safetensors.SizeLimitException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
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

    /** Sets a config field to a JSON value written as is (1e309 must reach the loader as the text the tenant sent). */
    private void setRaw(String field, String json) throws IOException {
        TestSupport.editJson(config, c -> c.put(field, "@RAW@"));
        Files.writeString(config, Files.readString(config).replace("\"@RAW@\"", json));
    }

    // numeric isolation: a scaling that is not a positive finite float would write NaN or Inf into the batch

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "lora_alpha    | \"NaN\"               | lora_alpha must be a finite number > 0, not \"NaN\"",
        "lora_alpha    | 1e309                 | lora_alpha must be a finite number > 0, not Infinity",
        "lora_alpha    | -8                    | lora_alpha must be a finite number > 0, not -8",
        "lora_alpha    | 0                     | lora_alpha must be a finite number > 0, not 0",
        "lora_alpha    | null                  | lora_alpha must be a finite number > 0, not null",
        "lora_alpha    | 1e40                  | lora_alpha / alpha_pattern 1.0E40 over r 4) is not a positive finite float32",
        "lora_alpha    | 1e-320                | is not a positive finite float32",
        "r             | 0                     | r must be an integer >= 1, not 0",
        "r             | -4                    | r must be an integer >= 1, not -4",
        "r             | 4.5                   | r must be an integer >= 1, not 4.5",
        "r             | \"4\"                 | r must be an integer >= 1, not \"4\"",
        "r             | 1e309                 | r must be an integer >= 1, not Infinity",
        "r             | 4294967300            | r must be an integer >= 1, not 4294967300",
        "r             | 65                    | rank 65 of model.layers.0.self_attn.q_proj (r / rank_pattern) is above min(in, out) = 64",
        "rank_pattern  | {\"q_proj\": 0}         | rank_pattern value of 'q_proj' must be an integer >= 1, not 0",
        "rank_pattern  | {\"q_proj\": 2.5}       | rank_pattern value of 'q_proj' must be an integer >= 1, not 2.5",
        "rank_pattern  | [4]                   | rank_pattern must be an object",
        "alpha_pattern | {\"v_proj\": 1e309}     | alpha_pattern value of 'v_proj' must be a finite number > 0, not Infinity",
        "alpha_pattern | {\"v_proj\": \"NaN\"}   | alpha_pattern value of 'v_proj' must be a finite number > 0, not \"NaN\"",
        "alpha_pattern | {\"v_proj\": -1}        | alpha_pattern value of 'v_proj' must be a finite number > 0, not -1",
    })
    void scalingThatIsNotPositiveAndFiniteIsRefused(String field, String json, String reason) throws IOException {
        setRaw(field, json);
        assertRefused(config, reason);
    }

    @Test
    void rsLoraWithRankZeroIsRefused() throws IOException {
        TestSupport.editJson(config, c -> c.put("use_rslora", true).put("r", 0));
        assertRefused(config, "r must be an integer >= 1, not 0");
    }

    @Test
    void patternValuesApplyByPeftRules() throws IOException {
        // the first matching key wins; a full name and a plain suffix both match
        TestSupport.editJson(config, c -> {
            c.putObject("rank_pattern").put("model.layers.1.self_attn.v_proj", 2).put("v_proj", 3);
            c.putObject("alpha_pattern").put("layers\\.0\\..*q_proj", 2.0);
        });
        withVProjRank(withVProjRank(RawSafetensors.read(weights), 0, 3), 1, 2).write(weights);
        LoraAdapter a = (LoraAdapter) loader.load(dir);
        assertThat(a.modules().get("0.v_proj").rank()).isEqualTo(3);
        assertThat(a.modules().get("1.v_proj").rank()).isEqualTo(2);
        assertThat(a.modules().get("0.q_proj").scale()).isEqualTo(2.0f / 4);
        assertThat(a.modules().get("1.q_proj").scale()).isEqualTo(8.0f / 4);
    }

    /** The file with v_proj of {@code layer} (in 64, out 32) replaced by zero weights of rank {@code r}. */
    private static RawSafetensors withVProjRank(RawSafetensors st, int layer, int r) {
        String m = "base_model.model.model.layers." + layer + ".self_attn.v_proj";
        RawSafetensors out = st.without(m + ".lora_A.weight").without(m + ".lora_B.weight");
        int end = out.data().length;
        int bytes = r * 64 * 4;
        out.header().putObject(m + ".lora_A.weight").put("dtype", "F32").putArray("shape").add(r).add(64);
        out.setOffsets(m + ".lora_A.weight", end, end + bytes);
        out.header().putObject(m + ".lora_B.weight").put("dtype", "F32").putArray("shape").add(32).add(r);
        out.setOffsets(m + ".lora_B.weight", end + bytes, end + bytes + r * 32 * 4);
        return new RawSafetensors(out.header(), TestSupport.concat(out.data(), new byte[bytes + r * 32 * 4]));
    }

    // patterns from uploads: linear time (RE2/J), and an invalid one names its field

    @Test
    void catastrophicTargetRegexIsAnsweredQuickly() throws IOException {
        // java.util.regex backtracks exponentially in the name's length on this pattern
        TestSupport.editJson(config, c -> c.put("target_modules", "((.*)*)*X"));
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> assertRefused(config, "target_modules \"((.*)*)*X\" match no module"));
    }

    @Test
    void catastrophicPatternKeysAreAnsweredQuickly() throws IOException {
        TestSupport.editJson(config, c -> {
            c.putObject("rank_pattern").put("((.*)*)*X", 2);
            c.putObject("alpha_pattern").put("((.*)*)*X", 2);
        });
        LoraAdapter a = assertTimeoutPreemptively(Duration.ofSeconds(2), () -> (LoraAdapter) loader.load(dir));
        assertThat(a.maxRank()).isEqualTo(4);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "target_modules  | \"(\"                    | target_modules is not a valid regular expression (missing closing ))",
        "target_modules  | \"(?=q)q_proj\"          | target_modules is not a valid regular expression",
        "target_modules  | \"((a{999}){999}){999}\" | target_modules repeats too much to compile",
        "exclude_modules | \"[\"                    | exclude_modules is not a valid regular expression",
        "rank_pattern    | {\"(\": 2}               | rank_pattern key '(' is not a valid regular expression",
        "alpha_pattern   | `{\"v_proj|(\": 2}`      | alpha_pattern key 'v_proj|(' is not a valid regular expression",
    })
    void invalidPatternsAreRefusedNamingTheField(String field, String json, String reason) throws IOException {
        setRaw(field, json);
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> assertRefused(config, reason));
    }

    @Test
    void configTextIsQuotedOnOneShortLine() throws IOException {
        TestSupport.editJson(config, c -> c.putObject("rank_pattern").put("x\n(" + "y".repeat(5000), 2));
        assertRefused(config, "rank_pattern key 'x\\u000a(yyy", "y...' is 5003 characters long, over the limit of 1024");
    }

    @Test
    void tooManyRegexKeysAreRefused() throws IOException {
        TestSupport.editJson(config, c -> {
            var m = c.putObject("rank_pattern");
            for (int i = 0; i <= LoraConfig.MAX_REGEX_KEYS; i++) {
                m.put("x" + i + "(a|b)", 2);
            }
        });
        assertRefused(config, "rank_pattern has more than " + LoraConfig.MAX_REGEX_KEYS + " keys that are regular expressions");
    }

    @Test
    void excludeModulesAsARegexExcludes() throws IOException {
        String v1 = "base_model.model.model.layers.1.self_attn.v_proj";
        TestSupport.editJson(config, c -> c.put("exclude_modules", ".*\\.1\\.self_attn\\.v_proj"));
        RawSafetensors.read(weights).without(v1 + ".lora_A.weight").without(v1 + ".lora_B.weight").write(weights);
        assertThat(((LoraAdapter) loader.load(dir)).modules()).containsOnlyKeys("0.q_proj", "0.v_proj", "1.q_proj");
    }

    // shapes and sizes checked before they are used

    @ParameterizedTest
    @ValueSource(strings = {"[]", "[512]", "[1, 8, 64]", "[0, 64]"})
    void promptEmbeddingsOfAnotherRankAreRefused(String shape) throws IOException {
        Files.copy(FIXTURES.resolve("adapters/llama-tiny/prompt-8/adapter_config.json"), config, StandardCopyOption.REPLACE_EXISTING);
        long[] dims = TestSupport.JSON.readValue(shape, long[].class);
        long elements = 1;
        for (long d : dims) {
            elements *= d;
        }
        String header = "{\"prompt_embeddings\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[0," + elements * 4 + "]}}";
        TestSupport.writeSafetensors(weights, header, new byte[(int) elements * 4]);
        assertRefused(weights, "prompt_embeddings has shape " + shape + "; it must be [num_virtual_tokens (1..512), hidden]");
    }

    /** The llama-tiny DePT fixture (N 6, max_length 12, r 4, hidden 64) in place of the LoRA. */
    private void copyDept() throws IOException {
        Path from = Path.of("testdata/fixtures-dept/adapters/llama-tiny/dept-6");
        Files.copy(from.resolve(config.getFileName()), config, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(from.resolve(weights.getFileName()), weights, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void theDeptFixtureLoadsAndDescribesItself() throws IOException {
        copyDept();
        DeptAdapter a = (DeptAdapter) loader.load(dir);
        assertThat(a.describe()).isEqualTo(new Description(Adapter.Kind.PROMPT_TUNING_LORA, 4, 6, 12, null, "prompt,embed_tokens"));
        assertThat(a.update()).hasSize(12 * 64);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "r            | 0       | r must be an integer in 1..12, not 0",
        "r            | 13      | r must be an integer in 1..12, not 13",
        "r            | '\"4\"' | r must be an integer in 1..12, not \"4\"",
        "r            |         | r must be an integer in 1..12, not missing",
        "max_length   | 0       | max_length must be an integer in 1..256, not 0",
        "max_length   | 4097    | max_length must be an integer in 1..256, not 4097",
        "max_length   | 1.5     | max_length must be an integer in 1..256, not 1.5",
        "lora_alpha   | -8      | lora_alpha must be a finite number > 0, not -8",
        "lora_alpha   | '\"NaN\"' | lora_alpha must be a finite number > 0, not \"NaN\"",
        "lora_alpha   |         | lora_alpha is missing",
        "token_dim    | 32      | token_dim 32 is not the base model's hidden size 64",
        "num_virtual_tokens | 7 | num_virtual_tokens 7 disagrees with prompt_embeddings [6, 64]",
    })
    void deptConfigOutOfBoundsIsRefused(String field, String value, String reason) throws IOException {
        copyDept();
        TestSupport.editJson(config, c -> {
            try {
                c.remove(field);
                if (value != null) {
                    c.set(field, TestSupport.JSON.readTree(value));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertRefused(config, reason);
    }

    @Test
    void deptTensorsThatDoNotFitOrAreNotFiniteAreRefused() throws IOException {
        copyDept();
        TestSupport.editJson(config, c -> c.put("max_length", 11));
        assertRefused(weights, "tensor prompt_encoder.lora_embedding_A has shape [12, 4] but the base model needs [11, 4]");
        copyDept();
        RawSafetensors st = RawSafetensors.read(weights);
        // the last float of lora_embedding_B, the file's last tensor
        ByteBuffer.wrap(st.data()).order(ByteOrder.LITTLE_ENDIAN).putFloat((int) st.end("prompt_encoder.lora_embedding_B") - 4, Float.NaN);
        st.write(weights);
        assertRefused(weights, "tensor prompt_encoder.lora_embedding_B contains NaN or Inf");
        copyDept();
        String extra = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
        int end = st.data().length;
        st.header().putObject(extra).put("dtype", "F32").putArray("shape").add(1).add(1);
        st.setOffsets(extra, end, end + 4);
        new RawSafetensors(st.header(), TestSupport.concat(st.data(), new byte[4])).write(weights);
        assertRefused(weights, "unexpected tensor " + extra + " in a PROMPT_TUNING_LORA adapter");
    }

    @Test
    void oversizedConfigIsRefusedBeforeItIsRead() throws IOException {
        TestSupport.editJson(config, c -> c.put("padding", " ".repeat((int) AdapterLoader.DEFAULT_MAX_CONFIG_BYTES)));
        assertThatThrownBy(() -> loader.load(dir)).isExactlyInstanceOf(SizeLimitException.class)
                .satisfies(e -> assertOneLine(e, config, "larger than the limit of 1048576 bytes for adapter_config.json"));
        // a smaller configured limit applies as well
        Files.copy(FIXTURES.resolve("adapters/llama-tiny/lora-qv/adapter_config.json"), config, StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> new AdapterLoader(engine.model(), 64).load(dir)).isExactlyInstanceOf(SizeLimitException.class)
                .hasMessageContaining("limit of 64 bytes");
    }

    @Test
    void safetensorsHeaderLengthOverTheLimitIsRefusedBeforeAllocating() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(SafetensorsFile.MAX_HEADER_BYTES + 1);
        Files.write(weights, b.array());
        assertThatThrownBy(() -> loader.load(dir)).isExactlyInstanceOf(SizeLimitException.class)
                .satisfies(e -> assertOneLine(e, weights, "header length 104857601 is over the limit of 104857600 bytes"));
        Files.write(weights, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1).array());
        assertThatThrownBy(() -> loader.load(dir)).isExactlyInstanceOf(SizeLimitException.class)
                .hasMessageContaining("header length 18446744073709551615 is over the limit");
    }
}
