package io.tessera.scheduler;

/**
 * Receives one request's output, in order, on the scheduler's delivery thread (shared by all requests: do not
 * block it). Exactly one of {@link #onFinish} and {@link #onError} ends the stream (neither after a cancel).
 */
public interface GenerationListener {

    void onToken(Generation.Token token);

    void onFinish(Finished finished);

    void onError(Throwable error);

    /**
     * How a request ended.
     *
     * @param stop             the stop string that ended it, or null
     * @param promptTokens     prompt tokens (a prompt adapter's virtual tokens not included)
     * @param completionTokens tokens generated, an end token included
     */
    record Finished(FinishReason reason, String stop, int promptTokens, int completionTokens) {
    }
}
