package io.tessera.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** {@code POST /v1/completions} as in the OpenAI API; the extensions are listed on {@link SamplingFields}. */
public record CompletionRequest(
        @Schema(required = true, description = "The base model, one of the caller's adapters (its active version), "
                + "or name@N for version N of one, active or not") String model,
        @Schema(required = true, description = "A string, a list with one string, or a list of token ids",
                oneOf = {String.class, String[].class, Integer[].class}) JsonNode prompt,
        @JsonProperty("max_tokens") @Schema(description = "Default 16") Integer maxTokens,
        Float temperature,
        @JsonProperty("top_p") Float topP,
        Long seed,
        @Schema(oneOf = {String.class, String[].class}) JsonNode stop,
        @JsonProperty("presence_penalty") Float presencePenalty,
        @JsonProperty("frequency_penalty") Float frequencyPenalty,
        @Schema(description = "Number of most likely tokens to report per position, 0..5") Integer logprobs,
        @Schema(description = "Accepted and ignored (OpenAI: for abuse monitoring): Tessera keeps no per-user state") String user,
        @Schema(description = "Only 1") Integer n,
        Boolean stream,
        @JsonProperty("stream_options") StreamOptions streamOptions,
        @Schema(description = "Not supported: only false") Boolean echo,
        @Schema(description = "Not supported") String suffix,
        @JsonProperty("best_of") @Schema(description = "Only 1") Integer bestOf,
        @JsonProperty("logit_bias") @Schema(description = "Not supported") Map<String, Float> logitBias,
        @JsonProperty("response_format") @Schema(description = SamplingFields.RESPONSE_FORMAT) JsonNode responseFormat,
        AttentionSpec attention,
        @JsonProperty("ignore_eos") @Schema(description = SamplingFields.IGNORE_EOS) Boolean ignoreEos,
        @JsonProperty("top_k") @Schema(description = SamplingFields.TOP_K) Integer topK,
        @JsonProperty("min_p") @Schema(description = SamplingFields.MIN_P) Float minP,
        @JsonProperty("repetition_penalty") @Schema(description = SamplingFields.REPETITION_PENALTY) Float repetitionPenalty)
        implements SamplingFields {
}
