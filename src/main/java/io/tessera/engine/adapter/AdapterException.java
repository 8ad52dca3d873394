package io.tessera.engine.adapter;

import io.tessera.engine.safetensors.CheckpointException;

/** An adapter directory that is refused; the message names the file and the reason in one line. */
public class AdapterException extends CheckpointException {
    public AdapterException(String message) {
        super(message);
    }
}
