package io.tessera.engine;

import java.nio.file.Path;

/**
 * How to open an engine.
 *
 * @param maxSequences  KV slots: sequences that can run at once
 * @param cacheCapacity KV entries per slot; 0 = max_position_embeddings + 64 (room for prompt-tuning tokens
 *                      and for LM-Infinite's G + L with the model defaults)
 * @param prefixCacheBytes bytes of finished prompts' keys and values kept for reuse; 0 = no prefix cache
 */
public record EngineOptions(Path modelDir, Device device, int maxSequences, int cacheCapacity, long prefixCacheBytes) {
    public enum Device { CPU, GPU, AUTO }

    public EngineOptions {
        if (maxSequences < 1) {
            throw new IllegalArgumentException("maxSequences must be >= 1");
        }
        if (cacheCapacity < 0) {
            throw new IllegalArgumentException("cacheCapacity must be >= 0");
        }
        if (prefixCacheBytes < 0) {
            throw new IllegalArgumentException("prefixCacheBytes must be >= 0");
        }
    }

    /** Without a prefix cache (the command line's runs: each prompt is new). */
    public EngineOptions(Path modelDir, Device device, int maxSequences, int cacheCapacity) {
        this(modelDir, device, maxSequences, cacheCapacity, 0);
    }

    public EngineOptions withPrefixCache(long bytes) {
        return new EngineOptions(modelDir, device, maxSequences, cacheCapacity, bytes);
    }
}
