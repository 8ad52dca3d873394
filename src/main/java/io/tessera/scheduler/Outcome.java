package io.tessera.scheduler;

import java.util.Locale;

/** How a request left the scheduler, for metrics. */
public enum Outcome {
    STOP, LENGTH, CANCELLED, TIMEOUT, ERROR;

    static Outcome of(FinishReason reason) {
        return reason == FinishReason.STOP ? STOP : LENGTH;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
