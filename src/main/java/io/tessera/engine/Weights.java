package io.tessera.engine;

/**
 * Where a decoder's weights come from, by their HF names: a checkpoint on disk ({@link Checkpoint}) or weights
 * generated for a config.json's shape ({@link RandomWeights}, for benchmarks). The loader is the only reader.
 */
public interface Weights extends AutoCloseable {
    boolean has(String name);

    /** The tensor as float32, after checking its shape against what config.json implies. */
    float[] read(String name, long... expectedShape);

    @Override
    void close();
}
