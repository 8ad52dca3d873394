package io.tessera.engine;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The adapters installed in the engine: one {@link AdapterStore} per store type the kinds name, made on the first
 * install, and the resident handles sequences hold. What a kind keeps and how it applies it is its store's
 * business. Engine thread only.
 */
public final class AdapterBank implements AutoCloseable {
    private final DecoderModel model;
    private final NDManager manager;
    private final Map<AdapterStore.Type, AdapterStore> stores = new LinkedHashMap<>();
    private long budgetBytes;

    AdapterBank(DecoderModel model, NDManager parent) {
        this.model = model;
        this.manager = parent.newSubManager();
    }

    /** Engine bytes the adapter will occupy once installed: what a residency budget must make room for. */
    public long bytes(AdapterWeights adapter) {
        return store(adapter).bytes(adapter);
    }

    /** The residency budget the stores made from now on size their tables for (see {@link AdapterStore#reserve}). */
    public void reserve(long bytes) {
        budgetBytes = bytes;
    }

    /** Copies a loaded adapter into its store's tensors under the given internal id. */
    public ResidentAdapter install(long id, AdapterWeights adapter, String label) {
        AdapterStore store = store(adapter);
        return new ResidentAdapter(id, adapter, label, store, store.install(adapter));
    }

    /** Frees and zeroes what the adapter occupies; it must not be held by any sequence. */
    public void uninstall(ResidentAdapter r) {
        if (!r.installed) {
            return;
        }
        if (r.holders > 0) {
            throw new IllegalStateException(r + " is still used by " + r.holders + " sequences");
        }
        r.store.reset(r.placement);
        r.installed = false;
    }

    void retain(ResidentAdapter r) {
        if (!r.installed) {
            throw new IllegalStateException(r + " is not installed");
        }
        r.holders++;
    }

    void release(ResidentAdapter r) {
        r.holders--;
    }

    private AdapterStore store(AdapterWeights adapter) {
        return stores.computeIfAbsent(adapter.storeType(), t -> {
            AdapterStore s = t.create(model, manager);
            s.reserve(budgetBytes);
            return s;
        });
    }

    /**
     * The step's adapter work for its packed rows (row i uses rowAdapters[i], null = base model, at positions[i],
     * a generated token where generated[i]).
     */
    AdapterBatch batch(NDManager step, List<ResidentAdapter> rowAdapters, int[] positions, boolean[] generated) {
        List<AdapterBatch> parts = new ArrayList<>(stores.size());
        for (AdapterStore store : stores.values()) {
            AdapterStore.Placement[] rows = null;
            for (int i = 0; i < rowAdapters.size(); i++) {
                ResidentAdapter r = rowAdapters.get(i);
                if (r != null && r.store == store) {
                    rows = rows == null ? new AdapterStore.Placement[rowAdapters.size()] : rows;
                    rows[i] = r.placement;
                }
            }
            AdapterBatch part = rows == null ? null : store.batch(step, rows, positions, generated);
            if (part != null) {
                parts.add(part);
            }
        }
        return AdapterBatch.of(parts);
    }

    @Override
    public void close() {
        stores.values().forEach(AdapterStore::close);
        manager.close();
    }
}
