package io.tessera.service;

/**
 * Tokens per second over the last {@value #SECONDS} seconds: a ring of per-second counts, so it holds
 * {@value #SECONDS} numbers however many tokens pass. Adding is cheap enough for the engine thread.
 */
final class TokenRate {
    static final int SECONDS = 10;

    /** Slot i counts the tokens of second {@code seconds[i]} (epoch seconds; slot = second mod SECONDS). */
    private final long[] seconds = new long[SECONDS];
    private final long[] counts = new long[SECONDS];

    synchronized void add(long nowMillis, long tokens) {
        long second = nowMillis / 1000;
        int i = (int) (second % SECONDS);
        if (seconds[i] != second) {
            seconds[i] = second;
            counts[i] = 0;
        }
        counts[i] += tokens;
    }

    /** Tokens of the seconds that ended within the window, the current one included, over the window's length. */
    synchronized double perSecond(long nowMillis) {
        long second = nowMillis / 1000;
        long sum = 0;
        for (int i = 0; i < SECONDS; i++) {
            if (seconds[i] > second - SECONDS && seconds[i] <= second) {
                sum += counts[i];
            }
        }
        return (double) sum / SECONDS;
    }
}
