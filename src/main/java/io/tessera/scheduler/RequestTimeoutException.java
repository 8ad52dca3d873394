package io.tessera.scheduler;

import java.time.Duration;

/** A request was still queued or generating when its time limit ran out; it was stopped and its KV slot freed. */
public class RequestTimeoutException extends RuntimeException {
    public RequestTimeoutException(Duration limit) {
        super("the request did not finish within the server's limit of " + limit.toMillis() + " ms"
                + " (tessera.scheduler.request-timeout); ask for fewer tokens");
    }
}
