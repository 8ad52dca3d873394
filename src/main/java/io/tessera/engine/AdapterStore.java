package io.tessera.engine;

import ai.djl.ndarray.NDManager;

/**
 * One adapter kind's part of the engine, after vLLM's {@code BaseLayerWithLoRA}: made once per engine on first use
 * ({@code create_lora_weights}), it copies adapters into its tensors ({@code set_lora}), zeroes what one occupied
 * when it goes ({@code reset_lora}) and applies the installed adapters of a step's rows. Engine thread only.
 */
public interface AdapterStore extends AutoCloseable {
    /** Makes the store in its own manager under {@code parent}; the same object for every adapter using it (a map key). */
    @FunctionalInterface
    interface Type {
        AdapterStore create(DecoderModel model, NDManager parent);
    }

    /** Where one installed adapter sits in its store. */
    interface Placement {
        /** Engine bytes it occupies: what the residency budget counts. */
        long bytes();
    }

    /** Engine bytes the adapter will occupy once installed. */
    long bytes(AdapterWeights adapter);

    Placement install(AdapterWeights adapter);

    /**
     * The residency budget (engine bytes): a store may size its tables for it now, so that installing up to it never
     * copies what is already installed. Called before the first install.
     */
    default void reserve(long budgetBytes) {
    }

    /** Frees what the adapter occupied and zeroes it: a place used again carries nothing of it. */
    void reset(Placement placement);

    /**
     * This store's work for a step's packed rows, or null when it has none: {@code rows[i]} is row i's placement
     * here (null: base model or another store), {@code positions[i]} the row's position in its sequence,
     * {@code generated[i]} whether the row is a token its sequence generated (past its prompt).
     */
    AdapterBatch batch(NDManager step, Placement[] rows, int[] positions, boolean[] generated);

    @Override
    void close();
}
