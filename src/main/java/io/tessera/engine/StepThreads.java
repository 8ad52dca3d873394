package io.tessera.engine;

import ai.djl.pytorch.jni.JniUtils;

/**
 * libtorch's intra-op threads for each step, chosen by the step's work, at most the configured count
 * ({@code tessera.engine.threads}). A team of threads meets at a barrier in every parallel op; a batch-1 decode
 * step of a small model is ~200 ops of microseconds each, so a second thread only adds waiting, and on a busy
 * machine a preempted team member stalls every op (demo-llama, 2 shared cores: 67 tok/s at 2 threads against 109
 * at 1). A thread is added per {@link #MACS_PER_THREAD} multiply-adds of the step's projections.
 * Setting the count is one cheap call (well under a microsecond), so every step sets it.
 */
final class StepThreads {
    /** Projection work worth one more thread: about 10–20 ms of one core on these machines. */
    static final long MACS_PER_THREAD = 200_000_000L;

    private final int max;
    private final long macsPerToken;

    StepThreads(ModelConfig c, int max) {
        this.max = Math.max(1, max);
        long e = c.hiddenSize();
        long attn = e * (c.numHeads() + 2L * c.numKvHeads()) * c.headDim() + (long) c.numHeads() * c.headDim() * e;
        long mlp = c.moe().map(m -> 3L * e * ((long) m.moeIntermediateSize() * m.expertsPerToken() + m.sharedIntermediateSize()))
                .orElse(3L * e * c.intermediateSize());
        this.macsPerToken = c.numLayers() * (attn + mlp) + e * c.vocabSize();
    }

    /** The configured maximum: the engine's {@code ai.djl.pytorch.num_threads}, else every core. */
    static int configuredMax() {
        Integer n = Integer.getInteger("ai.djl.pytorch.num_threads");
        return n != null && n > 0 ? n : Runtime.getRuntime().availableProcessors();
    }

    int forTokens(int tokens) {
        return (int) Math.min(max, 1 + tokens * macsPerToken / MACS_PER_THREAD);
    }

    /** Sets the calling (engine) thread's count for a step of {@code tokens} packed tokens. */
    void apply(int tokens) {
        JniUtils.setNumThreads(forTokens(tokens));
    }
}
