package io.tessera.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TextTokenizerTest {

    static final Path DEMO = Path.of("models/demo-llama");
    static final Path FIXTURES = Path.of("testdata/fixtures");
    static final ObjectMapper JSON = new ObjectMapper();

    static TextTokenizer demo;

    @BeforeAll
    static void loadDemo() {
        demo = TextTokenizer.load(DEMO);
    }

    @AfterAll
    static void closeDemo() {
        demo.close();
    }

    static int[] ints(JsonNode array) {
        return IntStream.range(0, array.size()).map(i -> array.get(i).asInt()).toArray();
    }

    static Stream<Arguments> fixtureCases() throws IOException {
        List<Arguments> cases = new ArrayList<>();
        for (JsonNode c : JSON.readTree(FIXTURES.resolve("cases.json").toFile()).path("cases")) {
            if (c.path("prompt").isTextual()) {
                cases.add(Arguments.of(c.path("id").asText(), c.path("model").asText(), c.path("prompt").asText(),
                        ints(c.path("input_ids"))));
            }
        }
        assertThat(cases).hasSizeGreaterThanOrEqualTo(10);
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtureCases")
    void fixturePromptEncodesToGoldenIds(String id, String model, String prompt, int[] inputIds) {
        try (TextTokenizer tok = TextTokenizer.load(FIXTURES.resolve(model))) {
            assertThat(tok.encode(prompt)).containsExactly(inputIds);
            assertThat(tok.decode(inputIds)).isEqualTo(prompt);
        }
    }

    static Stream<JsonNode> demoGreedy() throws IOException {
        List<JsonNode> entries = new ArrayList<>();
        JSON.readTree(Path.of("testdata/reference/demo-eval.json").toFile()).path("greedy").forEach(entries::add);
        assertThat(entries).isNotEmpty();
        return entries.stream().filter(e -> e.path("model").asText().equals("demo-llama"));
    }

    @ParameterizedTest
    @MethodSource("demoGreedy")
    void demoEvalPromptEncodesAndGenerationDecodesToReferenceText(JsonNode entry) {
        int[] prompt = ints(entry.path("input_ids"));
        int[] generated = ints(entry.path("new_tokens"));
        assertThat(demo.encode(entry.path("prompt").asText())).containsExactly(prompt);

        int[] all = IntStream.concat(IntStream.of(prompt), IntStream.of(generated)).toArray();
        assertThat(demo.decode(all)).isEqualTo(entry.path("text").asText());
    }

    @Test
    void longTextIsNotTruncated() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < 20_000; i++) {
            text.append("Line ").append(i).append(": the quick brown fox jumps over the lazy dog, résumé naïve.\n");
        }
        int[] ids = demo.encode(text.toString());
        assertThat(ids.length).isGreaterThan(3000);
        assertThat(demo.decode(ids)).isEqualTo(text.toString());
    }

    @Test
    void decodeSkipsSpecialTokensUnlessAsked() {
        int endOfText = demo.tokenId("<|endoftext|>").orElseThrow();
        int[] ids = IntStream.concat(IntStream.of(demo.encode("Returns")), IntStream.of(endOfText)).toArray();
        assertThat(demo.decode(ids)).isEqualTo("Returns");
        assertThat(demo.decode(ids, true)).isEqualTo("Returns");
        assertThat(demo.decode(ids, false)).isEqualTo("Returns<|endoftext|>");
    }

    @Test
    void specialTokensInTextAreSingleIdsAndNoBosIsAdded() {
        assertThat(demo.encode("<|im_start|>user")).startsWith(demo.tokenId("<|im_start|>").orElseThrow());
        assertThat(demo.encode("hi", true)).containsExactly(demo.encode("hi", false));
    }

    @Test
    void vocabularyLookups() {
        assertThat(demo.vocabSize()).isEqualTo(4096);
        assertThat(demo.tokenId("<|endoftext|>")).hasValue(0);
        assertThat(demo.tokenId("<|pad|>")).hasValue(1);
        assertThat(demo.tokenId("<|im_end|>")).hasValue(3);
        assertThat(demo.tokenId("no such token")).isEmpty();
    }

    @Test
    void missingTokenizerJsonNamesTheFile(@TempDir Path dir) {
        assertThatThrownBy(() -> TextTokenizer.load(dir))
                .isInstanceOf(TokenizerException.class)
                .hasMessageContaining(dir.resolve("tokenizer.json").toString())
                .hasMessageContaining("not found");
    }

    @Test
    void brokenTokenizerJsonNamesTheFileOnOneLine(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": ");
        assertThatThrownBy(() -> TextTokenizer.load(dir))
                .isInstanceOf(TokenizerException.class)
                .hasMessageStartingWith(dir.resolve("tokenizer.json") + ": invalid JSON")
                .hasMessageNotContaining("\n");
    }

    @Test
    void unusableTokenizerJsonNamesTheFile(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"),
                "{\"version\": \"1.0\", \"added_tokens\": [{\"id\": 0, \"content\": \"x\"}], \"model\": {\"type\": \"Nope\"}}");
        assertThatThrownBy(() -> TextTokenizer.load(dir))
                .isInstanceOf(TokenizerException.class)
                .hasMessageStartingWith(dir.resolve("tokenizer.json") + ": cannot load tokenizer");
    }
}
