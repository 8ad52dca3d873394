package io.tessera.scheduler;

/**
 * PyTorch's intra-op threads for the engine. A serving process leaves one core to HTTP and formatting: when a
 * thread of PyTorch's team loses its core to them, the whole team waits for it at the next barrier, and on a small
 * machine a step then takes many times longer.
 */
public final class EngineThreads {
    private static final String PROPERTY = "ai.djl.pytorch.num_threads";

    /** All cores but one, at least one. */
    public static int serving() {
        return Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    }

    /**
     * Sets the thread count for the engine this process opens next; PyTorch reads it once, when DJL first starts it.
     * An explicit {@code -Dai.djl.pytorch.num_threads} wins.
     */
    public static void use(int threads) {
        if (System.getProperty(PROPERTY) == null) {
            System.setProperty(PROPERTY, Integer.toString(threads));
        }
    }

    /** What the engine in this process uses, or 0 when PyTorch chooses. */
    public static int current() {
        return Integer.getInteger(PROPERTY, 0);
    }

    private EngineThreads() {
    }
}
