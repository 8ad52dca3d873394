package io.tessera.scheduler;

import io.tessera.engine.Sequence;
import java.util.Arrays;

/**
 * One request from submission to its end. {@link #cancel} may come from any thread; everything else belongs to the
 * engine thread: the core moves the job's state and counts, the shell owns its engine sequence.
 */
final class Job implements Scheduler.Handle {
    private static final System.Logger LOG = System.getLogger(Job.class.getName());

    final GenerationRequest request;
    final GenerationListener listener;
    final Decoding decoding;
    /** Clock reading at submission. */
    final long submitted;
    private final Runnable onCancel;
    private volatile boolean cancelled;
    private JobState state = JobState.WAITING;

    /** Times later requests were admitted before this one while its adapter was not resident. */
    int passedOver;
    /** The prefetch of its adapter, started at submission by the shell (null without an adapter). */
    java.util.concurrent.CompletableFuture<?> prefetch;

    /** The engine's sequence, opened by the shell at admission; the core never reads it. */
    Sequence seq;
    /** Prompt tokens in the sequence's KV (stepped or taken from the prefix cache). */
    int fed;
    /** Prompt tokens the prefix cache gave. */
    int cached;
    /** Tokens the engine adds to this sequence's next step (a prompt adapter's, first step only). */
    int virtualTokens;
    /** The last sampled token: what the next decode step feeds. */
    int next;
    /** Clock reading at the last generated token. */
    long lastToken;
    /** Tokens already reported to the listener's {@code onUsage}. */
    int billedPrompt;
    int billedGenerated;

    /** @param onCancel wakes the engine loop after a cancel */
    Job(GenerationRequest request, GenerationListener listener, Decoding decoding, long submitted, Runnable onCancel) {
        this.request = request;
        this.listener = listener;
        this.decoding = decoding;
        this.submitted = submitted;
        this.onCancel = onCancel;
    }

    @Override
    public void cancel() {
        cancelled = true;
        onCancel.run();
    }

    boolean cancelled() {
        return cancelled;
    }

    JobState state() {
        return state;
    }

    /** Moves to {@code next}; returns the state it left. */
    JobState moveTo(JobState next) {
        if (!state.canBecome(next)) {
            throw new IllegalStateException("request of " + request.tenant() + ": " + state + " cannot become " + next);
        }
        JobState from = state;
        state = next;
        return from;
    }

    boolean prefilling() {
        return fed < request.prompt().length;
    }

    /** The tokens this job feeds in a step of {@code n}: the next prompt chunk, or the last sampled token. */
    int[] tokens(int n) {
        return prefilling() ? Arrays.copyOfRange(request.prompt(), fed, fed + n) : new int[] {next};
    }

    StepPlanner.Entry entry() {
        return new StepPlanner.Entry(request.tenant(), request.prompt().length - fed, virtualTokens);
    }

    /** A listener call for the delivery thread; a listener that fails cancels its request. */
    Runnable guarded(Runnable call) {
        return () -> {
            try {
                call.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "listener failed; cancelling its request", e);
                cancel();
            }
        };
    }
}
