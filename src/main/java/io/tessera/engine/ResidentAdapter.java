package io.tessera.engine;

/**
 * An adapter installed in the engine. {@code id} is the engine's internal id for one (adapter, version): it is
 * never reused for different weights. Sequences hold it from open to release; it is not evicted while held.
 */
public final class ResidentAdapter {
    final long id;
    // not the adapter itself: its host copy of the weights is garbage once installed
    final int virtualTokens;
    final String label;   // what it was loaded as, for logs; never used to find it
    final AdapterStore store;
    final AdapterStore.Placement placement;
    int holders;
    boolean installed = true;

    ResidentAdapter(long id, AdapterWeights source, String label, AdapterStore store, AdapterStore.Placement placement) {
        this.id = id;
        this.virtualTokens = source.virtualTokens();
        this.label = label;
        this.store = store;
        this.placement = placement;
    }

    public long id() {
        return id;
    }

    public int virtualTokens() {
        return virtualTokens;
    }

    /** Engine bytes it occupies (its share of the stores' tensors, not its file's size). */
    public long bytes() {
        return placement.bytes();
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
