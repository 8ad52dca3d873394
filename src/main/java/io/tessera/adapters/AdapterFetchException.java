package io.tessera.adapters;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * An adapter's blob could not be brought to local disk: the store is down or slow, or it returned bytes whose
 * SHA-256 is not the one recorded (never unpacked, never loaded). Requests for it get 503; the cause is logged.
 */
public class AdapterFetchException extends UncheckedIOException {
    public AdapterFetchException(String sha256, IOException cause) {
        super("adapter blob " + sha256 + ": " + cause.getMessage(), cause);
    }
}
