package io.tessera.store;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Content-addressed storage for adapter archives: a blob's key is the SHA-256 of its bytes, never a name a user
 * gave, so a key cannot point outside the store and identical uploads share one blob.
 */
public interface BlobStore {
    Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /** A stored blob, as listed for the sweeper. */
    record Blob(String sha256, long size, Instant modified) {
    }

    /**
     * Stores {@code file}, whose SHA-256 the caller computed, under that hash. If it is there already its
     * modification time is renewed, so that the sweeper's grace period starts again.
     */
    void put(String sha256, Path file) throws IOException;

    /** Copies the blob to {@code target}; fails with {@link java.nio.file.NoSuchFileException} if absent. */
    void get(String sha256, Path target) throws IOException;

    boolean exists(String sha256) throws IOException;

    void delete(String sha256) throws IOException;

    List<Blob> list() throws IOException;

    /**
     * Deletes what writes begun before {@code cutoff} left half done (a crash mid-upload); returns how many.
     * Stores whose writes are atomic have nothing to sweep.
     */
    default int sweepPartial(Instant cutoff) throws IOException {
        return 0;
    }

    /** The relative key of a blob: blobs/sha256/ab/abcdef... (two-character fan-out keeps directories small). */
    static String key(String sha256) {
        if (!SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("not a lowercase hex SHA-256: " + sha256);
        }
        return "blobs/sha256/" + sha256.substring(0, 2) + "/" + sha256;
    }
}
