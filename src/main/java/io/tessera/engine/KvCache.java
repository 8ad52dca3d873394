package io.tessera.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Keys and values of all running sequences: per layer one tensor [slots, kvHeads, capacity, headDim].
 * Slots are kept dense (a released slot is refilled by the highest one), so a step reads slots 0..B-1 as a
 * view. Lives in its own long-lived manager, outside every step scope.
 */
final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    final int slots;
    final int capacity;
    final long bytesPerEntry;   // one position, all layers, K and V

    KvCache(NDManager parent, ModelConfig c, int slots, int capacity, DataType dtype) {
        this.manager = parent.newSubManager();
        this.slots = slots;
        this.capacity = capacity;
        this.keys = new NDArray[c.numLayers()];
        this.values = new NDArray[c.numLayers()];
        Shape shape = new Shape(slots, c.numKvHeads(), capacity, c.headDim());
        for (int l = 0; l < c.numLayers(); l++) {
            keys[l] = manager.zeros(shape, dtype);
            values[l] = manager.zeros(shape, dtype);
        }
        this.bytesPerEntry = c.kvBytesPerEntry(dtype.getNumOfBytes());
    }

    /** Writes packed rows k, v [T, kvHeads, D] to (slot, entry) pairs. */
    void write(int layer, Indices w, NDArray k, NDArray v) {
        if (w == null) {
            return;
        }
        NDIndex at = new NDIndex("{}, :, {}", w.slots, w.entries);
        keys[layer].set(at, w.rows == null ? k : k.get(new NDIndex("{}", w.rows)));
        values[layer].set(at, w.rows == null ? v : v.get(new NDIndex("{}", w.rows)));
    }

    /** [B, kvHeads, from:to, D]: a view of slots 0..B-1, or the given slots gathered. */
    NDArray keys(NDManager step, int layer, NDArray slots, int batch, int from, int to) {
        return read(step, keys[layer], slots, batch, from, to);
    }

    NDArray values(NDManager step, int layer, NDArray slots, int batch, int from, int to) {
        return read(step, values[layer], slots, batch, from, to);
    }

    private static NDArray read(NDManager step, NDArray t, NDArray slots, int batch, int from, int to) {
        NDArray v = slots == null ? t.get(new NDIndex("0:{}, :, {}:{}, :", batch, from, to))
                : t.get(new NDIndex("{}, :, {}:{}, :", slots, from, to));
        v.attach(step);   // a view (or gathered copy) freed with the step; the cache's storage stays
        return v;
    }

    /** Moves a sequence to another slot (slot compaction). */
    void move(int from, int to) {
        for (int l = 0; l < keys.length; l++) {
            try (NDArray k = keys[l].get(from); NDArray v = values[l].get(from)) {
                keys[l].set(new NDIndex("{}", to), k);
                values[l].set(new NDIndex("{}", to), v);
            }
        }
    }

    /** Copies of a slot's first {@code n} positions, per layer keys and values [kvHeads, n, D], owned by {@code owner}. */
    NDArray[][] copyOut(int slot, int n, NDManager owner) {
        NDIndex first = new NDIndex("{}, :, 0:{}, :", slot, n);
        NDArray[][] kv = new NDArray[keys.length][];
        for (int l = 0; l < keys.length; l++) {
            try (NDArray k = keys[l].get(first); NDArray v = values[l].get(first)) {
                kv[l] = new NDArray[] {k.duplicate(), v.duplicate()};
            }
            kv[l][0].attach(owner);
            kv[l][1].attach(owner);
        }
        return kv;
    }

    /** Writes the first {@code n} positions of {@link #copyOut} copies into a slot. */
    void copyIn(int slot, NDArray[][] kv, int n) {
        NDIndex first = new NDIndex("{}, :, 0:{}, :", slot, n);
        NDIndex part = new NDIndex(":, 0:{}, :", n);
        for (int l = 0; l < keys.length; l++) {
            try (NDArray k = kv[l][0].get(part); NDArray v = kv[l][1].get(part)) {
                keys[l].set(first, k);
                values[l].set(first, v);
            }
        }
    }

    /** Step-scoped index arrays for one {@link StepPlan.Writes}; rows is null when it is every packed row in order. */
    record Indices(NDArray rows, NDArray slots, NDArray entries) {
        static Indices of(NDManager step, StepPlan.Writes w, int tokens) {
            if (w.size() == 0) {
                return null;
            }
            boolean all = w.size() == tokens;
            for (int i = 0; all && i < w.size(); i++) {
                all = w.rows()[i] == i;
            }
            return new Indices(all ? null : step.create(w.rows()), step.create(w.slots()), step.create(w.entries()));
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
