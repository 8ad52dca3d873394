package io.tessera.scheduler;

import io.tessera.engine.sampling.SampledToken;
import io.tessera.engine.sampling.Sampler;
import io.tessera.engine.sampling.SamplingParams;
import io.tessera.engine.sampling.StopMatcher;
import io.tessera.engine.structured.Constraint;
import io.tessera.engine.tokenizer.IncrementalDecoder;
import io.tessera.engine.tokenizer.TextTokenizer;
import java.util.HashSet;
import java.util.Set;

/**
 * The decoding of one sequence: sampling (constrained to a grammar when asked), end-of-sequence and stop tokens,
 * stop strings, max_tokens and streaming detokenization. The one place that turns logits into text, for the service and the CLI alike. Not thread-safe:
 * the engine thread feeds it.
 */
public final class Generation implements Decoding {

    /**
     * One generated token.
     *
     * @param text   text it adds for the client (may be "": a split character or a possible stop string is held back)
     * @param finish why generation ends with this token, or null when it goes on
     */
    public record Token(SampledToken sampled, String text, FinishReason finish) {
        public int id() {
            return sampled.tokenId();
        }
    }

    private final Sampler sampler;
    private final StopMatcher stops;
    private final IncrementalDecoder decoder;
    private final Set<Integer> endIds;
    private final int maxTokens;
    private final int vocabSize;
    /** Null for free text. */
    private final Constraint constraint;
    private float[] masked;
    private int generated;

    /**
     * @param eosIds the model's end-of-sequence ids (ignored with {@code ignoreEos}); the request's stop token ids
     *               always end generation
     */
    public Generation(int[] prompt, SamplingParams params, TextTokenizer tokenizer, Set<Integer> eosIds, int vocabSize) {
        this(prompt, params, tokenizer, eosIds, vocabSize, null);
    }

    /**
     * @param constraint keeps the output valid for a grammar (the mask goes on the logits before sampling, and the
     *                   generation stops once the value is complete and nothing may follow); null for free text
     */
    public Generation(int[] prompt, SamplingParams params, TextTokenizer tokenizer, Set<Integer> eosIds, int vocabSize,
                      Constraint constraint) {
        this.vocabSize = vocabSize;
        this.constraint = constraint;
        this.sampler = new Sampler(params, prompt, vocabSize);
        this.stops = new StopMatcher(params.stop());
        this.decoder = tokenizer.incrementalDecoder(prompt);
        this.endIds = params.ignoreEos() ? params.stopTokenIds() : union(eosIds, params.stopTokenIds());
        this.maxTokens = params.maxTokens();
    }

    private static Set<Integer> union(Set<Integer> a, Set<Integer> b) {
        if (b.isEmpty()) {
            return a;
        }
        HashSet<Integer> u = new HashSet<>(a);
        u.addAll(b);
        return u;
    }

    @Override
    public Token next(float[] logits) {
        SampledToken s = sampler.sample(constraint == null ? logits : constrained(logits));
        generated++;
        if (endIds.contains(s.tokenId())) {
            // the end token itself is never shown (vLLM); whatever was held back is final now
            return finish(s, "", FinishReason.STOP);
        }
        if (constraint != null) {
            constraint.accept(s.tokenId());
        }
        StopMatcher.Result r = stops.feed(decoder.next(s.tokenId()));
        if (r.stopped()) {
            return new Token(s, r.emit(), FinishReason.STOP);
        }
        if (constraint != null && constraint.finished()) {
            // the value is closed and nothing may follow: no step is spent on the end token
            return finish(s, r.emit(), FinishReason.STOP);
        }
        if (generated >= maxTokens) {
            return finish(s, r.emit(), FinishReason.LENGTH);
        }
        return new Token(s, r.emit(), null);
    }

    private float[] constrained(float[] logits) {
        if (masked == null) {
            masked = new float[vocabSize];
        }
        return constraint.mask(logits, vocabSize, endIds, masked);
    }

    private Token finish(SampledToken s, String text, FinishReason reason) {
        StopMatcher.Result tail = stops.feed(decoder.flush());
        if (tail.stopped()) {
            return new Token(s, text + tail.emit(), FinishReason.STOP);
        }
        return new Token(s, text + tail.emit() + stops.flush(), reason);
    }

    /** Tokens sampled so far, the end token included: the completion_tokens of usage. */
    @Override
    public int generated() {
        return generated;
    }

    @Override
    public String matchedStop() {
        return stops.matchedStop();
    }
}
