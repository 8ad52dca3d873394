package io.tessera.runtime;

/**
 * PyTorch's threads for the engine, from the one setting {@code tessera.engine.threads} (the command line:
 * {@code --engine-threads}). A serving process leaves one core to HTTP and formatting: when a thread of PyTorch's
 * team loses its core to them, the whole team waits for it at the next barrier, and on a small machine a step then
 * takes many times longer.
 */
public final class EngineThreads {
    // DJL's names for what it passes to libtorch when it first starts it; set here only, from the setting
    private static final String INTRA_OP = "ai.djl.pytorch.num_threads";
    private static final String INTER_OP = "ai.djl.pytorch.num_interop_threads";

    /** All cores but one, at least one. */
    public static int serving() {
        return Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    }

    /**
     * Sets the intra-op thread count for the engine this process opens next (PyTorch reads it once, when DJL first
     * starts it), and one inter-op thread: the engine runs one op at a time.
     */
    public static void use(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("engine threads must be >= 1, got " + threads);
        }
        System.setProperty(INTRA_OP, Integer.toString(threads));
        System.setProperty(INTER_OP, "1");
    }

    /** What the engine in this process uses, or 0 when PyTorch chooses. */
    public static int current() {
        return Integer.getInteger(INTRA_OP, 0);
    }

    private EngineThreads() {
    }
}
