package io.tessera.api;

import io.tessera.engine.sampling.TokenLogprob;
import io.tessera.engine.tokenizer.TextTokenizer;
import io.tessera.scheduler.FinishReason;
import io.tessera.scheduler.Generation;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Token strings for logprobs, as the tokenizer spells each token on its own. */
final class TokenTexts {
    private final TextTokenizer tokenizer;

    TokenTexts(TextTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    String text(int id) {
        return tokenizer.decode(new int[] {id}, false);
    }

    /** An end token, or one wholly inside a stop string, adds no text and gets no logprobs entry. */
    static boolean shown(Generation.Token t) {
        return !(t.finish() == FinishReason.STOP && t.text().isEmpty());
    }

    ChatCompletionResponse.TokenLogprob chat(Generation.Token t) {
        List<ChatCompletionResponse.TokenLogprob> top = new ArrayList<>(t.sampled().top().size());
        for (TokenLogprob alt : t.sampled().top()) {
            String s = text(alt.tokenId());
            top.add(new ChatCompletionResponse.TokenLogprob(s, alt.logprob(), bytes(s), null));
        }
        String s = text(t.id());
        return new ChatCompletionResponse.TokenLogprob(s, t.sampled().logprob(), bytes(s), top);
    }

    private static List<Integer> bytes(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        List<Integer> out = new ArrayList<>(b.length);
        for (byte x : b) {
            out.add(x & 0xff);
        }
        return out;
    }
}
