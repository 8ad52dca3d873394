package io.tessera.scheduler;

/** The server takes no new requests now (model loading, shutting down). */
public class UnavailableException extends RuntimeException {
    public UnavailableException(String message) {
        super(message);
    }
}
