package io.tessera.engine.sampling;

import java.util.List;
import java.util.Set;

/**
 * Per-request sampling options with OpenAI semantics. Validation messages start with the OpenAI field name so
 * the HTTP layer can hand them back to the client as they are.
 *
 * @param temperature       0 means greedy; in [0, 2]
 * @param topP              nucleus mass in (0, 1]; 1 = off
 * @param topK              keep the k highest logits (ties with the k-th included); 0 = off
 * @param minP              keep tokens at least this fraction as likely as the most likely one (after temperature and
 *                          top-k, before top-p; as vLLM); in [0, 1], 0 = off
 * @param seed              makes sampling reproducible per request; null = random
 * @param maxTokens         at least 1
 * @param stop              stop strings, none empty; at most {@value #MAX_STOPS} of at most {@value #MAX_STOP_LENGTH}
 *                          characters (every generated token is searched for each of them on the engine thread)
 * @param stopTokenIds      token ids that end generation, none negative
 * @param presencePenalty   in [-2, 2]; subtracted once from every token generated so far
 * @param frequencyPenalty  in [-2, 2]; subtracted once per occurrence in the generated tokens
 * @param repetitionPenalty greater than 0 (Hugging Face semantics over prompt and generated tokens); 1 = off
 * @param logprobs          whether to report the sampled token's logprob
 * @param topLogprobs       number of most likely alternatives to report, in [0, 20]
 * @param ignoreEos         keep generating past the end-of-sequence token
 */
public record SamplingParams(float temperature, float topP, int topK, float minP, Long seed, int maxTokens,
        List<String> stop, Set<Integer> stopTokenIds, float presencePenalty, float frequencyPenalty,
        float repetitionPenalty, boolean logprobs, int topLogprobs, boolean ignoreEos) {

    public static final int MAX_STOPS = 16;
    public static final int MAX_STOP_LENGTH = 128;

    public SamplingParams {
        // Negated ranges so that NaN is rejected too.
        if (!(temperature >= 0f && temperature <= 2f)) {
            throw invalid("temperature", "must be in [0, 2]", temperature);
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw invalid("top_p", "must be in (0, 1]", topP);
        }
        if (topK < 0) {
            throw invalid("top_k", "must be >= 0 (0 disables it)", topK);
        }
        if (!(minP >= 0f && minP <= 1f)) {
            throw invalid("min_p", "must be in [0, 1] (0 disables it)", minP);
        }
        if (maxTokens < 1) {
            throw invalid("max_tokens", "must be >= 1", maxTokens);
        }
        if (!(presencePenalty >= -2f && presencePenalty <= 2f)) {
            throw invalid("presence_penalty", "must be in [-2, 2]", presencePenalty);
        }
        if (!(frequencyPenalty >= -2f && frequencyPenalty <= 2f)) {
            throw invalid("frequency_penalty", "must be in [-2, 2]", frequencyPenalty);
        }
        if (!(repetitionPenalty > 0f) || Float.isInfinite(repetitionPenalty)) {
            throw invalid("repetition_penalty", "must be a finite number > 0 (1 disables it)", repetitionPenalty);
        }
        if (topLogprobs < 0 || topLogprobs > 20) {
            throw invalid("top_logprobs", "must be in [0, 20]", topLogprobs);
        }
        stop = stop == null ? List.of() : stop;
        if (stop.size() > MAX_STOPS) {
            throw invalid("stop", "must hold at most " + MAX_STOPS + " strings", stop.size());
        }
        for (String s : stop) {
            if (s == null || s.isEmpty()) {
                throw new IllegalArgumentException("stop must not contain null or empty strings");
            }
            if (s.length() > MAX_STOP_LENGTH) {
                throw invalid("stop", "strings must be at most " + MAX_STOP_LENGTH + " characters long", s.length());
            }
        }
        stop = List.copyOf(stop);
        stopTokenIds = stopTokenIds == null ? Set.of() : stopTokenIds;
        for (Integer id : stopTokenIds) {
            if (id == null || id < 0) {
                throw invalid("stop_token_ids", "must be non-negative token ids", id);
            }
        }
        stopTokenIds = Set.copyOf(stopTokenIds);
    }

    private static IllegalArgumentException invalid(String field, String rule, Object value) {
        return new IllegalArgumentException(field + " " + rule + ", got " + value);
    }

    /** Argmax decoding: temperature 0, no penalties, no stops, no logprobs. */
    public static SamplingParams greedy(int maxTokens) {
        return builder().temperature(0f).maxTokens(maxTokens).build();
    }

    /** Top-k of 1 leaves a single candidate, so it is argmax as well. */
    public boolean isGreedy() {
        return temperature == 0f || topK == 1;
    }

    public static Builder builder() {
        return new Builder();
    }

    Builder toBuilder() {
        return new Builder()
                .temperature(temperature).topP(topP).topK(topK).minP(minP).seed(seed).maxTokens(maxTokens)
                .stop(stop).stopTokenIds(stopTokenIds)
                .presencePenalty(presencePenalty).frequencyPenalty(frequencyPenalty)
                .repetitionPenalty(repetitionPenalty)
                .logprobs(logprobs).topLogprobs(topLogprobs).ignoreEos(ignoreEos);
    }

    /** Starts from the OpenAI defaults (temperature 1, max_tokens 16, everything else off). */
    public static final class Builder {
        private float temperature = 1f;
        private float topP = 1f;
        private int topK;
        private float minP;
        private Long seed;
        private int maxTokens = 16;
        private List<String> stop = List.of();
        private Set<Integer> stopTokenIds = Set.of();
        private float presencePenalty;
        private float frequencyPenalty;
        private float repetitionPenalty = 1f;
        private boolean logprobs;
        private int topLogprobs;
        private boolean ignoreEos;

        private Builder() {
        }

        public Builder temperature(float temperature) {
            this.temperature = temperature;
            return this;
        }

        public Builder topP(float topP) {
            this.topP = topP;
            return this;
        }

        public Builder topK(int topK) {
            this.topK = topK;
            return this;
        }

        public Builder minP(float minP) {
            this.minP = minP;
            return this;
        }

        public Builder seed(Long seed) {
            this.seed = seed;
            return this;
        }

        public Builder maxTokens(int maxTokens) {
            this.maxTokens = maxTokens;
            return this;
        }

        public Builder stop(List<String> stop) {
            this.stop = stop;
            return this;
        }

        public Builder stopTokenIds(Set<Integer> stopTokenIds) {
            this.stopTokenIds = stopTokenIds;
            return this;
        }

        public Builder presencePenalty(float presencePenalty) {
            this.presencePenalty = presencePenalty;
            return this;
        }

        public Builder frequencyPenalty(float frequencyPenalty) {
            this.frequencyPenalty = frequencyPenalty;
            return this;
        }

        public Builder repetitionPenalty(float repetitionPenalty) {
            this.repetitionPenalty = repetitionPenalty;
            return this;
        }

        public Builder logprobs(boolean logprobs) {
            this.logprobs = logprobs;
            return this;
        }

        public Builder topLogprobs(int topLogprobs) {
            this.topLogprobs = topLogprobs;
            return this;
        }

        public Builder ignoreEos(boolean ignoreEos) {
            this.ignoreEos = ignoreEos;
            return this;
        }

        public SamplingParams build() {
            return new SamplingParams(temperature, topP, topK, minP, seed, maxTokens, stop, stopTokenIds,
                    presencePenalty, frequencyPenalty, repetitionPenalty, logprobs, topLogprobs, ignoreEos);
        }
    }
}
