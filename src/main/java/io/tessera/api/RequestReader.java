package io.tessera.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.ModelConfig;
import io.tessera.engine.sampling.SamplingParams;
import io.tessera.scheduler.InvalidRequestException;
import java.util.ArrayList;
import java.util.List;

/** Reads and checks the request fields both endpoints share; every refusal names the field as the client sent it. */
final class RequestReader {

    /** Checks what needs no model: n, the model name, stream options. */
    static void checkCommon(SamplingFields f) {
        if (f.model() == null || f.model().isBlank()) {
            throw new InvalidRequestException("model", "model is required");
        }
        if (f.n() != null && f.n() != 1) {
            throw new InvalidRequestException("n", "n must be 1 (got " + f.n() + "): Tessera returns one choice per request; send n requests for n choices");
        }
        if (f.streamOptions() != null && !Boolean.TRUE.equals(f.stream())) {
            throw new InvalidRequestException("stream_options", "stream_options is only allowed with stream: true");
        }
    }

    static void refuse(boolean present, String field, String message) {
        if (present) {
            throw new InvalidRequestException(field, field + " is not supported: " + message);
        }
    }

    static boolean stream(SamplingFields f) {
        return Boolean.TRUE.equals(f.stream());
    }

    static boolean includeUsage(SamplingFields f) {
        return f.streamOptions() != null && Boolean.TRUE.equals(f.streamOptions().includeUsage());
    }

    /** {@code full} when absent; {@code lm-infinite} with the model's defaults for unset numbers. */
    static AttentionPolicy attention(AttentionSpec a, ModelConfig config) {
        if (a == null || a.type() == null || a.type().equals("full")) {
            return AttentionPolicy.FULL;
        }
        if (!a.type().equals("lm-infinite")) {
            throw new InvalidRequestException("attention.type", "attention.type must be full or lm-infinite (got " + a.type() + ")");
        }
        AttentionPolicy.LmInfinite d = AttentionPolicy.lmInfiniteDefaults(config);
        try {
            return new AttentionPolicy.LmInfinite(or(a.nGlobal(), d.nGlobal()), or(a.nLocal(), d.nLocal()), or(a.maxDistance(), d.maxDistance()));
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("attention", "attention " + e.getMessage());
        }
    }

    private static int or(Integer v, int fallback) {
        return v == null ? fallback : v;
    }

    static List<String> stop(JsonNode stop) {
        if (stop == null || stop.isNull()) {
            return List.of();
        }
        if (stop.isTextual()) {
            return List.of(stop.asText());
        }
        if (stop.isArray()) {
            List<String> out = new ArrayList<>();
            for (JsonNode s : stop) {
                if (!s.isTextual()) {
                    throw new InvalidRequestException("stop", "stop must be a string or a list of strings");
                }
                out.add(s.asText());
            }
            return out;
        }
        throw new InvalidRequestException("stop", "stop must be a string or a list of strings");
    }

    /**
     * The sampling parameters; SamplingParams' own checks name the field first, which becomes the error's param.
     *
     * @param maxTokensField the field max_tokens came from, for the error
     */
    static SamplingParams params(SamplingFields f, int maxTokens, String maxTokensField, boolean logprobs, int topLogprobs) {
        if (maxTokens < 1) {
            throw new InvalidRequestException(maxTokensField, maxTokensField + " must be >= 1, got " + maxTokens);
        }
        try {
            SamplingParams.Builder b = SamplingParams.builder()
                    .maxTokens(maxTokens)
                    .stop(stop(f.stop()))
                    .seed(f.seed())
                    .logprobs(logprobs)
                    .topLogprobs(topLogprobs)
                    .ignoreEos(Boolean.TRUE.equals(f.ignoreEos()));
            if (f.temperature() != null) {
                b.temperature(f.temperature());
            }
            if (f.topP() != null) {
                b.topP(f.topP());
            }
            if (f.presencePenalty() != null) {
                b.presencePenalty(f.presencePenalty());
            }
            if (f.frequencyPenalty() != null) {
                b.frequencyPenalty(f.frequencyPenalty());
            }
            return b.build();
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            throw new InvalidRequestException(m.substring(0, Math.max(0, m.indexOf(' '))), m);
        }
    }

    private RequestReader() {
    }
}
