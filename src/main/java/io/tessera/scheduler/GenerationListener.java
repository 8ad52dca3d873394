package io.tessera.scheduler;

import java.util.concurrent.CompletableFuture;

/**
 * Receives one request's output, in order, on the scheduler's delivery thread (shared by all requests: do not
 * block it). Exactly one of {@link #onFinish} and {@link #onError} ends the stream (neither after a cancel).
 */
public interface GenerationListener {

    void onToken(Generation.Token token);

    void onFinish(Finished finished);

    void onError(Throwable error);

    /**
     * Tokens the request consumed since the last call, as the engine consumes them: prompt tokens once prefilled
     * (those from the prefix cache with the first chunk), each generated token in the step that produced it. Comes
     * before the token events of the same step and before the end, so a request that is cancelled, fails or times
     * out has been told of everything it used.
     */
    default void onUsage(int promptTokens, int generatedTokens) {
    }

    /** A listener whose end completes {@link #done} (for callers that wait); subclasses take the tokens. */
    abstract class Completion implements GenerationListener {
        public final CompletableFuture<Finished> done = new CompletableFuture<>();

        @Override
        public void onFinish(Finished finished) {
            done.complete(finished);
        }

        @Override
        public void onError(Throwable error) {
            done.completeExceptionally(error);
        }
    }

    /**
     * How a request ended.
     *
     * @param stop             the stop string that ended it, or null
     * @param promptTokens     prompt tokens (a prompt adapter's virtual tokens not included)
     * @param completionTokens tokens generated, an end token included
     * @param cachedTokens     prompt tokens whose keys and values came from the prefix cache
     */
    record Finished(FinishReason reason, String stop, int promptTokens, int completionTokens, int cachedTokens) {
    }
}
