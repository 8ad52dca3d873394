package io.tessera.cluster;

/** A tenant key (by its SHA-256) was revoked: replicas drop it from their key caches. */
public record KeyRevoked(String keyHash) {
}
