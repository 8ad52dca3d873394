package io.tessera.engine.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.tessera.engine.AdapterBatch;
import io.tessera.engine.AdapterStore;
import io.tessera.engine.AdapterWeights;
import io.tessera.engine.DecoderModel;
import io.tessera.engine.Rows;
import io.tessera.engine.Tensors;
import java.util.ArrayList;
import java.util.List;

/**
 * The resident DePT adapters in one table [1 + Σ (N + S), hidden]: a zero row, then per adapter its N prompt
 * embeddings and its S update rows. Rebuilt on every install and reset, so it holds exactly the resident adapters.
 * A step gathers one table row per packed row, whatever the number of adapters in it.
 */
final class DeptStore implements AdapterStore {
    static final AdapterStore.Type TYPE = DeptStore::new;

    private final DecoderModel model;
    private final NDManager manager;
    private final List<Dept> resident = new ArrayList<>();
    private NDArray table;   // null when none is resident

    private DeptStore(DecoderModel model, NDManager parent) {
        this.model = model;
        this.manager = parent.newSubManager();
    }

    /** One adapter's rows in the table: its prompt at offset, its update after it. Moves when the table is rebuilt. */
    private static final class Dept implements Placement {
        final DeptAdapter adapter;
        final long bytes;
        int offset;

        Dept(DeptAdapter adapter, long bytes) {
            this.adapter = adapter;
            this.bytes = bytes;
        }

        @Override
        public long bytes() {
            return bytes;
        }
    }

    @Override
    public long bytes(AdapterWeights adapter) {
        DeptAdapter d = (DeptAdapter) adapter;
        return (long) (d.virtualTokens() + d.maxLength()) * d.hidden() * model.dtype().getNumOfBytes();
    }

    @Override
    public Placement install(AdapterWeights adapter) {
        Dept d = new Dept((DeptAdapter) adapter, bytes(adapter));
        resident.add(d);
        rebuild();
        return d;
    }

    @Override
    public void reset(Placement placement) {
        resident.remove((Dept) placement);
        rebuild();
    }

    private void rebuild() {
        if (table != null) {
            table.close();
            table = null;
        }
        if (resident.isEmpty()) {
            return;
        }
        int hidden = model.config().hiddenSize();
        int rows = 1;
        for (Dept d : resident) {
            d.offset = rows;
            rows += d.adapter.virtualTokens() + d.adapter.maxLength();
        }
        float[] all = new float[Math.multiplyExact(rows, hidden)];
        for (Dept d : resident) {
            System.arraycopy(d.adapter.prompt(), 0, all, d.offset * hidden, d.adapter.prompt().length);
            System.arraycopy(d.adapter.update(), 0, all, (d.offset + d.adapter.virtualTokens()) * hidden, d.adapter.update().length);
        }
        table = Tensors.create(manager, all, new Shape(rows, hidden), model.dtype());
    }

    @Override
    public AdapterBatch batch(NDManager step, Placement[] rows, int[] positions, boolean[] generated) {
        // per packed row: the table row added to its embedding (0: the zero row), and whether the embedding is
        // kept (a virtual token's is replaced: its id's embedding times 0, plus the prompt row)
        long[] index = new long[rows.length];
        float[] keep = new float[rows.length];
        boolean virtual = false;
        boolean any = false;
        for (int i = 0; i < rows.length; i++) {
            keep[i] = 1;
            if (!(rows[i] instanceof Dept d)) {
                continue;
            }
            int n = d.adapter.virtualTokens();
            int p = positions[i] - n;   // the prompt token's index, virtual tokens not counted
            if (p < 0) {
                index[i] = d.offset + positions[i];
                keep[i] = 0;
                virtual = true;
            } else if (p < d.adapter.maxLength() && !generated[i]) {
                index[i] = d.offset + n + p;
            }
            any |= index[i] != 0;
        }
        if (!any) {
            return null;
        }
        boolean replaces = virtual;
        return AdapterBatch.embedding(x -> {
            // x [T, hidden]
            NDArray kept = replaces ? x.mul(step.create(keep, new Shape(rows.length, 1)).toType(x.getDataType(), false)) : x;
            return kept.add(Rows.select(table, step.create(index)));
        });
    }

    @Override
    public void close() {
        manager.close();
    }
}
