package io.tessera.scheduler;

import java.time.Duration;

/**
 * Limits of the engine loop.
 *
 * @param maxRunning       sequences decoding or prefilling at once (at most the engine's KV slots)
 * @param maxTokensPerStep tokens fed to one engine step, all sequences together; bounds a step's time
 * @param prefillChunk     prompt tokens one sequence feeds per step
 * @param maxQueued        requests waiting for a place (and being tokenized); more are refused
 * @param joinInterval     while sequences decode, new ones join every this many steps, or sooner once this many
 *                         can join together. A step with any prompt in it pads every row to the prompt chunk's
 *                         length, so prompts that arrive close together should share one such step rather than
 *                         each slow down a step of their own
 * @param requestTimeout   how long a request may take from submission to its last token, or null for no limit
 */
public record SchedulerOptions(int maxRunning, int maxTokensPerStep, int prefillChunk, int maxQueued, int joinInterval,
                               Duration requestTimeout) {
    public SchedulerOptions {
        if (requestTimeout != null && (requestTimeout.isNegative() || requestTimeout.isZero())) {
            throw new IllegalArgumentException("request-timeout must be positive");
        }
        if (maxRunning < 1 || prefillChunk < 1 || maxQueued < 1 || joinInterval < 1) {
            throw new IllegalArgumentException("max-running, prefill-chunk, max-queued and join-interval must be >= 1");
        }
        if (maxTokensPerStep < maxRunning) {
            // every running sequence's decode token must fit in one step
            throw new IllegalArgumentException("max-tokens-per-step (" + maxTokensPerStep + ") must be >= max-running (" + maxRunning + ")");
        }
    }
}
