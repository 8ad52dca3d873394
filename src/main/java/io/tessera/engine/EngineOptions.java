package io.tessera.engine;

import java.nio.file.Path;

/**
 * How to open an engine.
 *
 * @param maxSequences  KV slots: sequences that can run at once
 * @param cacheCapacity KV entries per slot; 0 = max_position_embeddings + 64 (room for prompt-tuning tokens
 *                      and for LM-Infinite's G + L with the model defaults)
 */
public record EngineOptions(Path modelDir, Device device, int maxSequences, int cacheCapacity) {
    public enum Device { CPU, GPU, AUTO }

    public EngineOptions {
        if (maxSequences < 1) {
            throw new IllegalArgumentException("maxSequences must be >= 1");
        }
        if (cacheCapacity < 0) {
            throw new IllegalArgumentException("cacheCapacity must be >= 0");
        }
    }

    public static EngineOptions of(Path modelDir) {
        return new EngineOptions(modelDir, Device.AUTO, 64, 0);
    }

    public EngineOptions withMaxSequences(int n) {
        return new EngineOptions(modelDir, device, n, cacheCapacity);
    }

    public EngineOptions withCacheCapacity(int n) {
        return new EngineOptions(modelDir, device, maxSequences, n);
    }

    public EngineOptions withDevice(Device d) {
        return new EngineOptions(modelDir, d, maxSequences, cacheCapacity);
    }
}
