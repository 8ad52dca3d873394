package io.tessera.engine;

/**
 * A validated adapter in host memory, ready to install. One implementation per kind (in
 * {@code io.tessera.engine.adapter}); the engine knows kinds only through this and the store each names.
 */
public interface AdapterWeights {
    /** The store adapters of this kind install into: one per engine and type, made on the first install. */
    AdapterStore.Type storeType();

    /** Tokens prepended to a sequence's first step (prompt tuning); 0 for other kinds. */
    default int virtualTokens() {
        return 0;
    }
}
