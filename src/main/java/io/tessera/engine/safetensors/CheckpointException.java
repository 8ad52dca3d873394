package io.tessera.engine.safetensors;

/**
 * A model or adapter file that cannot be used. The message is one line that names the file and the
 * problem, so the CLI and the API can show it as is.
 */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
