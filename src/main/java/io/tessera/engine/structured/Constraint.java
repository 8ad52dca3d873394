package io.tessera.engine.structured;

import java.util.Set;

/**
 * One sequence's constrained decoding: where its output stands in the grammar. Before each sample
 * {@link #mask} hides the tokens that would break the value (the end tokens while it is incomplete); after it
 * {@link #accept} moves on. Not thread-safe: one per sequence, fed by the engine thread.
 */
public final class Constraint {

    private final Grammar grammar;
    private Grammar.Position at;
    private Grammar.Mask mask;

    public Constraint(Grammar grammar) {
        this.grammar = grammar;
        this.at = grammar.start();
    }

    /**
     * Writes {@code logits} into {@code out} with every token that cannot come next at negative infinity; end tokens
     * stay only once the value is complete (or when nothing else could come). Returns {@code out}.
     */
    public float[] mask(float[] logits, int vocabSize, Set<Integer> endIds, float[] out) {
        Grammar.Mask m = current();
        long[] bits = m.allowed();
        int n = Math.min(vocabSize, bits.length << 6);
        for (int i = 0; i < n; i++) {
            out[i] = (bits[i >>> 6] & (1L << i)) != 0 ? logits[i] : Float.NEGATIVE_INFINITY;
        }
        java.util.Arrays.fill(out, n, vocabSize, Float.NEGATIVE_INFINITY);
        if (m.complete() || !m.any()) {
            for (int id : endIds) {
                if (id < vocabSize) {
                    out[id] = logits[id];
                }
            }
        }
        return out;
    }

    /** Moves past a sampled token (an end token ends the value and leaves the position as it is). */
    public void accept(int tokenId) {
        at = grammar.advance(at, tokenId);
        mask = null;
    }

    /** Whether the output so far is one whole value. */
    public boolean complete() {
        return current().complete();
    }

    /** Whether the value is complete and nothing may follow it: generation can end without an end token. */
    public boolean finished() {
        Grammar.Mask m = current();
        return m.complete() && !m.any();
    }

    boolean allows(int tokenId) {
        return current().allows(tokenId);
    }

    private Grammar.Mask current() {
        if (mask == null) {
            mask = grammar.mask(at);
        }
        return mask;
    }
}
