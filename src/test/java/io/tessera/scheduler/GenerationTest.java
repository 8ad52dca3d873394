package io.tessera.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.engine.sampling.SamplingParams;
import io.tessera.engine.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Drives Generation with logits that force each token, so every end condition can be hit exactly. */
class GenerationTest {
    static final int VOCAB = 4096;
    static final int EOS = 0;
    static TextTokenizer tok;

    @BeforeAll
    static void load() {
        tok = TextTokenizer.load(Path.of("models/demo-llama"));
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    private static float[] forcing(int token) {
        float[] logits = new float[VOCAB];
        logits[token] = 10f;
        return logits;
    }

    private static List<Generation.Token> run(SamplingParams params, int... tokens) {
        Generation g = new Generation(tok.encode("Returns the"), params, tok, Set.of(EOS), VOCAB);
        List<Generation.Token> out = new ArrayList<>();
        for (int t : tokens) {
            Generation.Token next = g.next(forcing(t));
            out.add(next);
            if (next.finish() != null) {
                break;
            }
        }
        return out;
    }

    private static String text(List<Generation.Token> tokens) {
        StringBuilder b = new StringBuilder();
        tokens.forEach(t -> b.append(t.text()));
        return b.toString();
    }

    @Test
    void theEndTokenStopsAndShowsNoText() {
        int[] words = tok.encode(" number of elements");
        int[] ids = new int[words.length + 2];
        System.arraycopy(words, 0, ids, 0, words.length);
        ids[words.length] = EOS;
        ids[words.length + 1] = words[0];
        List<Generation.Token> out = run(SamplingParams.greedy(50), ids);
        assertThat(out).hasSize(words.length + 1);
        assertThat(out.get(out.size() - 1).finish()).isEqualTo(FinishReason.STOP);
        assertThat(text(out)).isEqualTo(" number of elements");
    }

    @Test
    void maxTokensEndsWithLength() {
        int[] ids = tok.encode(" number of elements in this queue");
        List<Generation.Token> out = run(SamplingParams.greedy(3), ids);
        assertThat(out).hasSize(3);
        assertThat(out.get(2).finish()).isEqualTo(FinishReason.LENGTH);
        assertThat(text(out)).isEqualTo(tok.decode(new int[] {ids[0], ids[1], ids[2]}));
    }

    @Test
    void aStopStringEndsGenerationAndIsNotShown() {
        int[] ids = tok.encode(" number of elements in this queue");
        SamplingParams params = SamplingParams.builder().temperature(0f).maxTokens(50).stop(List.of("elem")).build();
        List<Generation.Token> out = run(params, ids);
        assertThat(out.get(out.size() - 1).finish()).isEqualTo(FinishReason.STOP);
        assertThat(text(out)).isEqualTo(" number of ");
    }

    @Test
    void textHeldBackForAPossibleStopIsReleasedAtTheEnd() {
        int[] ids = tok.encode(" number of elements");
        SamplingParams params = SamplingParams.builder().temperature(0f).maxTokens(ids.length).stop(List.of("elements!")).build();
        List<Generation.Token> out = run(params, ids);
        assertThat(out.get(out.size() - 1).finish()).isEqualTo(FinishReason.LENGTH);
        assertThat(text(out)).isEqualTo(" number of elements");
    }

    @Test
    void ignoreEosKeepsGoingButStopTokenIdsStillEnd() {
        SamplingParams params = SamplingParams.builder().temperature(0f).maxTokens(10).ignoreEos(true)
                .stopTokenIds(Set.of(7)).build();
        List<Generation.Token> out = run(params, EOS, EOS, 7, 8);
        assertThat(out).hasSize(3);
        assertThat(out.get(2).finish()).isEqualTo(FinishReason.STOP);
    }
}
