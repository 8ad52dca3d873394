package io.tessera.engine;

/** The engine has no room (KV slots or entries) for what was asked; the caller should queue or refuse. */
public class CapacityException extends RuntimeException {
    public CapacityException(String message) {
        super(message);
    }
}
