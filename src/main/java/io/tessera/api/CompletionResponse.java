package io.tessera.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/** A completion, and also each streamed chunk of one (OpenAI uses the same object for both). */
public record CompletionResponse(String id, String object, long created, String model, List<CompletionChoice> choices,
                                 @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage) {

    public record CompletionChoice(String text, int index, CompletionLogprobs logprobs,
                                   @JsonProperty("finish_reason") String finishReason) {
    }

    /** The legacy completions logprobs layout: parallel lists per token. */
    public record CompletionLogprobs(List<String> tokens,
                                     @JsonProperty("token_logprobs") List<Float> tokenLogprobs,
                                     @JsonProperty("top_logprobs") List<Map<String, Float>> topLogprobs,
                                     @JsonProperty("text_offset") List<Integer> textOffset) {
    }
}
