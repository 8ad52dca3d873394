package io.tessera.engine.tokenizer;

/** The model has no chat template, or rendering it failed (including the template's raise_exception). */
public class ChatTemplateException extends RuntimeException {

    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
