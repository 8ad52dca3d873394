package io.tessera.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.tessera.api.ChatCompletionResponse.ChatLogprobs;
import java.util.List;

/** One server-sent event of a streamed chat completion. */
public record ChatCompletionChunk(String id, String object, long created, String model, List<ChunkChoice> choices,
                                  @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage) {

    public record ChunkChoice(int index, Delta delta, ChatLogprobs logprobs,
                              @JsonProperty("finish_reason") String finishReason) {
    }

    /** What the chunk adds to the message; the first chunk names the role. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Delta(String role, String content,
                        @JsonProperty("tool_calls") List<ChatCompletionResponse.ToolCall> toolCalls) {
        Delta(String role, String content) {
            this(role, content, null);
        }
    }
}
