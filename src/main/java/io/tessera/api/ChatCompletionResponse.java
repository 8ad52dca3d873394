package io.tessera.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** A chat completion. */
public record ChatCompletionResponse(String id, String object, long created, String model, List<ChatChoice> choices,
                                     Usage usage) {

    public record ChatChoice(int index, ChatMessageOut message, ChatLogprobs logprobs,
                             @JsonProperty("finish_reason") String finishReason) {
    }

    public record ChatMessageOut(String role, String content) {
    }

    /** Per generated token: the token, its logprob, its UTF-8 bytes and the most likely alternatives. */
    public record ChatLogprobs(List<TokenLogprob> content) {
    }

    public record TokenLogprob(String token, float logprob, List<Integer> bytes,
                               @JsonProperty("top_logprobs") @JsonInclude(JsonInclude.Include.NON_NULL) List<TokenLogprob> topLogprobs) {
    }
}
