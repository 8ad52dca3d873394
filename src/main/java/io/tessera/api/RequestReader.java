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

    /**
     * {@code full} when absent; {@code lm-infinite} with the model's defaults for unset numbers. The numbers come
     * from the client: their sum is taken in {@code long} and bounded by the KV room of a sequence, the distance cap
     * by the model's trained length (beyond it the positions LM-Infinite shows the model are ones it never saw).
     */
    static AttentionPolicy attention(AttentionSpec a, ModelConfig config, int kvCapacity) {
        if (a == null || a.type() == null || a.type().equals("full")) {
            return AttentionPolicy.FULL;
        }
        if (!a.type().equals("lm-infinite")) {
            throw new InvalidRequestException("attention.type", "attention.type must be full or lm-infinite (got "
                    + InvalidRequestException.quote(a.type()) + ")");
        }
        AttentionPolicy.LmInfinite d = AttentionPolicy.lmInfiniteDefaults(config);
        int global = within("attention.n_global", or(a.nGlobal(), d.nGlobal()), 0, kvCapacity);
        // unset, the window takes what the KV room leaves (a server may configure less room than the trained length)
        int local = within("attention.n_local", or(a.nLocal(), Math.max(1, Math.min(d.nLocal(), kvCapacity - global))), 1, kvCapacity);
        int distance = within("attention.max_distance", or(a.maxDistance(), d.maxDistance()), 1, config.maxPositionEmbeddings());
        if ((long) global + local > kvCapacity) {
            throw new InvalidRequestException("attention", "attention n_global + n_local = " + ((long) global + local)
                    + " exceeds the KV room per sequence (" + kvCapacity + ")");
        }
        return new AttentionPolicy.LmInfinite(global, local, distance);
    }

    private static int within(String field, int value, int min, int max) {
        if (value < min || value > max) {
            throw new InvalidRequestException(field, field + " must be in [" + min + ", " + max + "], got " + value);
        }
        return value;
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
     * @param maxNewTokens   the most tokens one request may generate (tessera.scheduler.max-new-tokens)
     */
    static SamplingParams params(SamplingFields f, int maxTokens, String maxTokensField, int maxNewTokens,
                                 boolean logprobs, int topLogprobs) {
        if (maxTokens < 1) {
            throw new InvalidRequestException(maxTokensField, maxTokensField + " must be >= 1, got " + maxTokens);
        }
        if (maxTokens > maxNewTokens) {
            throw new InvalidRequestException(maxTokensField, maxTokensField + " " + maxTokens
                    + " exceeds this server's tessera.scheduler.max-new-tokens of " + maxNewTokens);
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
            if (f.topK() != null) {
                // vLLM's -1 for off as well as 0
                b.topK(f.topK() == -1 ? 0 : f.topK());
            }
            if (f.minP() != null) {
                b.minP(f.minP());
            }
            if (f.repetitionPenalty() != null) {
                b.repetitionPenalty(f.repetitionPenalty());
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
