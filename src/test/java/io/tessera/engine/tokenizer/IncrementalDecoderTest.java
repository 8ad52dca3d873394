package io.tessera.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class IncrementalDecoderTest {

    static TextTokenizer tok;

    @BeforeAll
    static void load() {
        tok = TextTokenizer.load(Path.of("models/demo-llama"));
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    /** Streams every id, then flushes; returns all pieces. */
    static List<String> stream(int[] prompt, int[] generated) {
        IncrementalDecoder decoder = tok.incrementalDecoder(prompt);
        List<String> pieces = new ArrayList<>();
        for (int id : generated) {
            pieces.add(decoder.next(id));
        }
        pieces.add(decoder.flush());
        return pieces;
    }

    @Test
    void multiByteCharactersSplitAcrossTokensAreHeldBackUntilComplete() {
        String text = "héllo wörld — ☃";
        int[] ids = tok.encode(text);
        // the test only means something if some character's bytes span several tokens
        assertThat(IntStream.of(ids).mapToObj(id -> tok.decode(new int[] {id}))).anyMatch(s -> s.contains("\uFFFD"));

        List<String> pieces = stream(new int[0], ids);
        assertThat(pieces).noneMatch(p -> p.contains("\uFFFD"));
        assertThat(pieces).contains("é", "ö", "☃");
        assertThat(String.join("", pieces)).isEqualTo(tok.decode(ids)).isEqualTo(text);
    }

    @ParameterizedTest
    @MethodSource("io.tessera.engine.tokenizer.TextTokenizerTest#demoGreedy")
    void piecesAfterThePromptRebuildTheReferenceText(JsonNode entry) {
        int[] prompt = TextTokenizerTest.ints(entry.path("input_ids"));
        int[] generated = TextTokenizerTest.ints(entry.path("new_tokens"));
        String pieces = String.join("", stream(prompt, generated));
        assertThat(pieces).isEqualTo(tok.decode(generated));
        assertThat(entry.path("prompt").asText() + pieces).isEqualTo(entry.path("text").asText());
    }

    @Test
    void multiByteTextAfterAMultiBytePrompt() {
        int[] prompt = tok.encode("Grüße — ");
        int[] generated = tok.encode("☃ naïve ☃☃ 日本語");
        assertThat(String.join("", stream(prompt, generated))).isEqualTo(tok.decode(generated));
    }

    @Test
    void specialTokensAreSkipped() {
        int eos = tok.tokenId("<|endoftext|>").orElseThrow();
        IncrementalDecoder decoder = tok.incrementalDecoder(tok.encode("Hello"));
        StringBuilder text = new StringBuilder();
        for (int id : tok.encode(" world")) {
            text.append(decoder.next(id));
        }
        assertThat(text).hasToString(" world");
        assertThat(decoder.next(eos)).isEmpty();
        assertThat(decoder.flush()).isEmpty();
    }

    @Test
    void flushEmitsAnIncompleteCharacter() {
        int[] snowman = tok.encode("☃");
        assertThat(snowman.length).isGreaterThan(1);
        IncrementalDecoder decoder = tok.incrementalDecoder(new int[0]);
        assertThat(decoder.next(snowman[0])).isEmpty();
        assertThat(decoder.flush()).isEqualTo(tok.decode(new int[] {snowman[0]})).contains("\uFFFD");
    }
}
