package io.tessera.engine.tokenizer;

import java.util.Objects;

/** One chat turn as the template sees it: {@code message['role']}, {@code message['content']}. */
public record ChatMessage(String role, String content) {

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }
}
