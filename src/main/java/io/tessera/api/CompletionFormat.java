package io.tessera.api;

import io.tessera.api.CompletionResponse.CompletionChoice;
import io.tessera.api.CompletionResponse.CompletionLogprobs;
import io.tessera.engine.sampling.TokenLogprob;
import io.tessera.scheduler.Generation;
import io.tessera.scheduler.GenerationListener.Finished;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** {@code text_completion} objects; logprobs in the legacy parallel-lists layout when asked for. */
final class CompletionFormat implements EventBody.Format {
    private static final String OBJECT = "text_completion";

    private final String id = "cmpl-" + UUID.randomUUID().toString().replace("-", "");
    private final long created = Instant.now().getEpochSecond();
    private final String model;
    /** null when logprobs were not asked for. */
    private final TokenTexts texts;
    /** Offset of the next token's text in the completion, for text_offset. */
    private int offset;

    CompletionFormat(String model, TokenTexts texts) {
        this.model = model;
        this.texts = texts;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public Object response(List<Generation.Token> tokens, Finished finished) {
        StringBuilder text = new StringBuilder();
        tokens.forEach(t -> text.append(t.text()));
        return new CompletionResponse(id, OBJECT, created, model,
                List.of(new CompletionChoice(text.toString(), 0, logprobs(tokens), finished.reason().openAi())),
                Usage.of(finished));
    }

    @Override
    public void chunks(Generation.Token token, List<Object> out) {
        CompletionLogprobs lp = logprobs(List.of(token));
        if (!token.text().isEmpty() || lp != null && !lp.tokens().isEmpty()) {
            out.add(chunk(token.text(), lp, null));
        }
    }

    @Override
    public Object finish(Finished finished) {
        return chunk("", null, finished.reason().openAi());
    }

    @Override
    public Object usage(Finished finished) {
        return new CompletionResponse(id, OBJECT, created, model, List.of(), Usage.of(finished));
    }

    private CompletionResponse chunk(String text, CompletionLogprobs logprobs, String finishReason) {
        return new CompletionResponse(id, OBJECT, created, model, List.of(new CompletionChoice(text, 0, logprobs, finishReason)), null);
    }

    private CompletionLogprobs logprobs(List<Generation.Token> tokens) {
        if (texts == null) {
            return null;
        }
        List<String> strings = new ArrayList<>();
        List<Float> logprobs = new ArrayList<>();
        List<Map<String, Float>> top = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>();
        for (Generation.Token t : tokens) {
            if (!TokenTexts.shown(t)) {
                continue;
            }
            String s = texts.text(t.id());
            strings.add(s);
            logprobs.add(t.sampled().logprob());
            Map<String, Float> alts = new LinkedHashMap<>();
            for (TokenLogprob alt : t.sampled().top()) {
                alts.putIfAbsent(texts.text(alt.tokenId()), alt.logprob());
            }
            top.add(alts);
            offsets.add(offset);
            offset += s.length();
        }
        return new CompletionLogprobs(strings, logprobs, top, offsets);
    }
}
