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
        @JsonProperty("response_format") @Schema(description = "text, json_object, or json_schema with a schema of "
                + "the supported keywords (see the README); the output is guaranteed by constrained decoding")
        JsonNode responseFormat,
        AttentionSpec attention,
        @JsonProperty("ignore_eos") @Schema(description = "Extension (as vLLM): keep generating past end-of-sequence") Boolean ignoreEos,
        @JsonProperty("top_k") @Schema(description = "Extension (as vLLM): sample from the k most likely tokens; 0 or -1 = off") Integer topK,
        @JsonProperty("min_p") @Schema(description = "Extension (as vLLM): drop tokens less likely than min_p times the most likely one "
                + "(after temperature); in [0, 1], 0 = off") Float minP,
        @JsonProperty("repetition_penalty") @Schema(description = "Extension (as vLLM, Hugging Face semantics over prompt and "
                + "output tokens): > 1 discourages repeats; 1 = off") Float repetitionPenalty)
        implements SamplingFields {
}
