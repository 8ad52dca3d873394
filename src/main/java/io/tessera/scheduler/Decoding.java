package io.tessera.scheduler;

/** Turns one sequence's logits into tokens: {@link Generation}, or a stand-in where tests drive the core. */
interface Decoding {

    /** Samples the next token from the logits of the sequence's last position. */
    Generation.Token next(float[] logits);

    /** Tokens sampled so far, the end token included. */
    int generated();

    /** The stop string that ended generation, or null. */
    String matchedStop();
}
