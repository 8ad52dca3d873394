package io.tessera.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** {@code POST /v1/chat/completions} as in the OpenAI API; {@code attention} and {@code ignore_eos} are extensions. */
public record ChatCompletionRequest(
        @Schema(required = true, description = "The base model or one of the caller's adapters") String model,
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
        String user,
        @Schema(description = "Only 1") Integer n,
        Boolean stream,
        @JsonProperty("stream_options") StreamOptions streamOptions,
        @JsonProperty("logit_bias") @Schema(description = "Not supported") Map<String, Float> logitBias,
        @Schema(description = "Functions the model may call (OpenAI's shape); the chat template receives them and a call's "
                + "arguments are constrained to the function's parameters") JsonNode tools,
        @JsonProperty("tool_choice") @Schema(description = "none, auto (the default with tools), required, or "
                + "{\"type\": \"function\", \"function\": {\"name\": ...}}") JsonNode toolChoice,
        @JsonProperty("response_format") @Schema(description = "text, json_object, or json_schema with a schema of "
                + "the supported keywords (see the README); the output is guaranteed by constrained decoding")
        JsonNode responseFormat,
        AttentionSpec attention,
        @JsonProperty("ignore_eos") @Schema(description = "Extension (as vLLM): keep generating past end-of-sequence") Boolean ignoreEos)
        implements SamplingFields {
}
