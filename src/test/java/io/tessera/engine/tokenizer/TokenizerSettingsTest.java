package io.tessera.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerSettingsTest {

    static final Path DEMO = Path.of("models/demo-llama");

    static TextTokenizer demo;

    @BeforeAll
    static void load() {
        demo = TextTokenizer.load(DEMO);
    }

    @AfterAll
    static void close() {
        demo.close();
    }

    @Test
    void demoLlama() {
        TokenizerSettings s = TokenizerSettings.load(DEMO, demo);
        assertThat(s.eosToken()).isEqualTo("<|endoftext|>");
        assertThat(s.padToken()).isEqualTo("<|pad|>");
        assertThat(s.eosTokenIds()).isEqualTo(Set.of(0, 3));
        assertThat(s.padTokenId()).hasValue(1);
        assertThat(s.modelMaxLength()).isEqualTo(1_000_000);
        assertThat(s.chatTemplate()).hasValueSatisfying(t -> assertThat(t).contains("<|im_start|>"));
        assertThat(s.bosToken()).isNull();
    }

    @Test
    void fixtureModelWithoutGenerationConfigOrTemplate() {
        Path dir = Path.of("testdata/fixtures/models/llama-tiny");
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            TokenizerSettings s = TokenizerSettings.load(dir, tok);
            assertThat(s.eosTokenIds()).containsExactly(0);
            assertThat(s.padTokenId()).hasValue(1);
            assertThat(s.modelMaxLength()).isEqualTo(256);
            assertThat(s.chatTemplate()).isEmpty();
        }
    }

    @Test
    void transformersSerializationVariants(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"eos_token": {"content": "<|im_end|>", "special": true},
                 "bos_token": "<|im_start|>",
                 "model_max_length": 1000000000000000019884624838656,
                 "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}
                """);
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": 0, \"pad_token_id\": 1}");
        TokenizerSettings s = TokenizerSettings.load(dir, demo);
        assertThat(s.eosToken()).isEqualTo("<|im_end|>");
        assertThat(s.bosToken()).isEqualTo("<|im_start|>");
        assertThat(s.eosTokenIds()).isEqualTo(Set.of(0, 3));
        assertThat(s.padToken()).isNull();
        assertThat(s.padTokenId()).hasValue(1);
        assertThat(s.modelMaxLength()).isEqualTo(Integer.MAX_VALUE);
        assertThat(s.chatTemplate()).hasValue("D");
    }

    @Test
    void chatTemplateJinjaFile(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("chat_template.jinja"), "{{ messages[0]['content'] }}");
        TokenizerSettings s = TokenizerSettings.load(dir, demo);
        assertThat(s.chatTemplate()).hasValue("{{ messages[0]['content'] }}");
        assertThat(s.eosTokenIds()).isEmpty();
        assertThat(s.padTokenId()).isEmpty();
    }

    @Test
    void brokenConfigNamesTheFile(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [0,");
        assertThatThrownBy(() -> TokenizerSettings.load(dir, demo))
                .isInstanceOf(TokenizerException.class)
                .hasMessageStartingWith(dir.resolve("generation_config.json") + ": invalid JSON")
                .hasMessageNotContaining("\n");
    }
}
