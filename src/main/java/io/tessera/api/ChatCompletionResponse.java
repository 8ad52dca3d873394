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

    /** content is null when the answer is a tool call. */
    public record ChatMessageOut(String role, String content,
                                 @JsonProperty("tool_calls") @JsonInclude(JsonInclude.Include.NON_NULL) List<ToolCall> toolCalls) {
    }

    /** A call of one of the request's tools; {@code index} only in stream deltas. */
    public record ToolCall(@JsonInclude(JsonInclude.Include.NON_NULL) Integer index, String id, String type,
                           FunctionCall function) {
    }

    /** {@code arguments}: a JSON object as a string, valid against the function's parameters. */
    public record FunctionCall(String name, String arguments) {
    }

    /** Per generated token: the token, its logprob, its UTF-8 bytes and the most likely alternatives. */
    public record ChatLogprobs(List<TokenLogprob> content) {
    }

    public record TokenLogprob(String token, float logprob, List<Integer> bytes,
                               @JsonProperty("top_logprobs") @JsonInclude(JsonInclude.Include.NON_NULL) List<TokenLogprob> topLogprobs) {
    }
}
