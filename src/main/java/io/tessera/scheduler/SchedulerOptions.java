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
 * @param maxNewTokens     the most tokens one request may generate, under any attention policy
 * @param maxPromptTokens  the most prompt tokens one request may have, under any attention policy (LM-Infinite has
 *                         no context limit, but every position a sequence reaches has its rotary table row, kept)
 * @param maxRunningPerTenant sequences one tenant may run at once: the other slots stay open to other tenants,
 *                         however many long streams one tenant opens
 */
public record SchedulerOptions(int maxRunning, int maxTokensPerStep, int prefillChunk, int maxQueued, int joinInterval,
                               Duration requestTimeout, int maxNewTokens, int maxPromptTokens,
                               int maxRunningPerTenant) {
    /** The default share of one tenant: half the slots, at least one. */
    public static int halfTheSlots(int maxRunning) {
        return Math.max(1, maxRunning / 2);
    }

    public SchedulerOptions {
        if (maxNewTokens < 1 || maxPromptTokens < 1) {
            throw new IllegalArgumentException("max-new-tokens and max-prompt-tokens must be >= 1");
        }
        if (maxRunningPerTenant < 1 || maxRunningPerTenant > maxRunning) {
            throw new IllegalArgumentException("max-running-per-tenant (" + maxRunningPerTenant + ") must be in [1, max-running ("
                    + maxRunning + ")]");
        }
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
