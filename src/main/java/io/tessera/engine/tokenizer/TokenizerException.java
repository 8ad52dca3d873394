package io.tessera.engine.tokenizer;

/** A model's tokenizer files are missing or unusable; the message names the file and the problem. */
public class TokenizerException extends RuntimeException {

    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
