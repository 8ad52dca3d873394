package io.tessera.scheduler;

/** Every queue place is taken; the client should retry later. */
public class QueueFullException extends RuntimeException {
    public QueueFullException(int places) {
        super("the server is at capacity (" + places + " requests queued); retry later");
    }
}
