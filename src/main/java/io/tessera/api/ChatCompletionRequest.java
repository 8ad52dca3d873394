package io.tessera.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** {@code POST /v1/chat/completions} as in the OpenAI API; the extensions are listed on {@link SamplingFields}. */
public record ChatCompletionRequest(
        @Schema(required = true, description = "The base model, one of the caller's adapters (its active version), "
                + "or name@N for version N of one, active or not") String model,
        @Schema(required = true) List<ChatMessageIn> messages,
        @JsonProperty("max_tokens") @Schema(description = "Deprecated alias of max_completion_tokens") Integer maxTokens,
        @JsonProperty("max_completion_tokens") @Schema(description = "Default: the rest of the context") Integer maxCompletionTokens,
        Float temperature,
        @JsonProperty("top_p") Float topP,
        Long seed,
        @Schema(oneOf = {String.class, String[].class}) JsonNode stop,
        @JsonProperty("presence_penalty") Float presencePenalty,
        @JsonProperty("frequency_penalty") Float frequencyPenalty,
        Boolean logprobs,
        @JsonProperty("top_logprobs") Integer topLogprobs,
        @Schema(description = "Accepted and ignored (OpenAI: for abuse monitoring): Tessera keeps no per-user state") String user,
        @Schema(description = "Only 1") Integer n,
        Boolean stream,
        @JsonProperty("stream_options") StreamOptions streamOptions,
        @JsonProperty("logit_bias") @Schema(description = "Not supported") Map<String, Float> logitBias,
        @Schema(description = "Functions the model may call (OpenAI's shape); the chat template receives them and a call's "
                + "arguments are constrained to the function's parameters") JsonNode tools,
        @JsonProperty("tool_choice") @Schema(description = "none, auto (the default with tools), required, or "
                + "{\"type\": \"function\", \"function\": {\"name\": ...}}") JsonNode toolChoice,
        @JsonProperty("response_format") @Schema(description = SamplingFields.RESPONSE_FORMAT) JsonNode responseFormat,
        AttentionSpec attention,
        @JsonProperty("ignore_eos") @Schema(description = SamplingFields.IGNORE_EOS) Boolean ignoreEos,
        @JsonProperty("top_k") @Schema(description = SamplingFields.TOP_K) Integer topK,
        @JsonProperty("min_p") @Schema(description = SamplingFields.MIN_P) Float minP,
        @JsonProperty("repetition_penalty") @Schema(description = SamplingFields.REPETITION_PENALTY) Float repetitionPenalty)
        implements SamplingFields {
}
