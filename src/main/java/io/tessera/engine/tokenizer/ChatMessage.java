package io.tessera.engine.tokenizer;

import java.util.Map;
import java.util.Objects;

/**
 * One chat turn as the template sees it: {@code message['role']}, {@code message['content']}, and the fields of tool
 * use in Hugging Face's convention ({@code tool_calls} of an assistant turn, {@code tool_call_id} and {@code name}
 * of a tool turn) in {@code extra}.
 */
public record ChatMessage(String role, String content, Map<String, Object> extra) {

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        extra = Map.copyOf(extra);
    }

    public ChatMessage(String role, String content) {
        this(role, content, Map.of());
    }
}
