package io.tessera.engine.sampling;

/** A candidate token and its log-probability. */
public record TokenLogprob(int tokenId, float logprob) {
}
