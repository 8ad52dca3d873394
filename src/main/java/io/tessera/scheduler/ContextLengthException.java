package io.tessera.scheduler;

/** Prompt plus max_tokens do not fit the model's context under full attention. */
public class ContextLengthException extends InvalidRequestException {
    public ContextLengthException(int limit, int promptTokens, int maxTokens) {
        super("max_tokens", "This model's maximum context length is " + limit + " tokens, but the request needs "
                + (promptTokens + maxTokens) + ": " + promptTokens + " prompt tokens + " + maxTokens
                + " max_tokens. Shorten the prompt or max_tokens, or send \"attention\": {\"type\": \"lm-infinite\"},"
                + " which keeps a bounded cache and has no such limit.");
    }
}
