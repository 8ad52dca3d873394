package io.tessera.engine.adapter;

import ai.djl.ndarray.NDArray;

/**
 * An adapter installed in the engine. {@code id} is the engine's internal id for one (adapter, version): it is
 * never reused for different weights. Sequences hold it from open to release; it is not evicted while held.
 */
public final class ResidentAdapter {
    final long id;
    final Adapter source;
    final String label;
    // LoRA: bucket and slot in the bank; DoRA: row in the scale tables (0 = none)
    AdapterBank.Bucket bucket;
    int slot = -1;
    int doraRow;
    // prompt tuning: [N, hidden]
    NDArray prompt;
    // expert groups: base expert -> index in the bank's replacement stacks, -1 where unchanged
    int[] expertMap;
    int expertOffset;
    int holders;
    boolean installed;

    ResidentAdapter(long id, Adapter source, String label) {
        this.id = id;
        this.source = source;
        this.label = label;
    }

    public long id() {
        return id;
    }

    public Adapter source() {
        return source;
    }

    /** What the adapter was loaded as (for logs and metrics); never used to find it. */
    public String label() {
        return label;
    }

    public int virtualTokens() {
        return source instanceof PromptTuningAdapter p ? p.virtualTokens() : 0;
    }

    public NDArray promptEmbeddings() {
        return prompt;
    }

    public long bytes() {
        return source.bytes();
    }

    /** Sequences using it now. */
    public int holders() {
        return holders;
    }

    public boolean installed() {
        return installed;
    }

    @Override
    public String toString() {
        return "adapter#" + id + "(" + label + ")";
    }
}
