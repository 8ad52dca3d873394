package io.tessera.scheduler;

/** What the scheduler reports as it runs (metrics). Called on the engine thread: keep it cheap. */
public interface SchedulerObserver {
    SchedulerObserver NONE = new SchedulerObserver() {
    };

    /** From submission to the first generated token. */
    default void firstToken(GenerationRequest request, long nanos) {
    }

    /** Between two tokens of one sequence. */
    default void interToken(GenerationRequest request, long nanos) {
    }

    /** From submission to the end; tokens are 0 for a request that never ran; cached: prompt tokens not computed. */
    default void ended(GenerationRequest request, Outcome outcome, long nanos, int promptTokens, int cachedTokens,
                       int generatedTokens) {
    }

    /** One engine step: sequences in it and tokens fed. */
    default void stepped(int sequences, int tokens) {
    }
}
