package io.tessera.engine;

/**
 * One sequence's share of a step: the next tokens to feed (a prefill chunk or one decode token).
 *
 * @param allLogits return logits at every real position of the chunk, not only the last (perplexity, conformance)
 */
public record StepInput(Sequence sequence, int[] tokens, boolean allLogits) {
    public StepInput {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("a step input needs at least one token");
        }
    }

    public static StepInput next(Sequence s, int... tokens) {
        return new StepInput(s, tokens, false);
    }
}
