package io.tessera.engine.safetensors;

/**
 * A file, or a part of one, larger than a bound that is checked before it is read: the upload path answers it
 * as "too large" (413) rather than as an unusable adapter. The message names the limit.
 */
public class SizeLimitException extends CheckpointException {
    public SizeLimitException(String message) {
        super(message);
    }
}
