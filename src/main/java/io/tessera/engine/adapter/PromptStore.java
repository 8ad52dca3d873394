package io.tessera.engine.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.tessera.engine.AdapterBatch;
import io.tessera.engine.AdapterStore;
import io.tessera.engine.AdapterWeights;
import io.tessera.engine.DecoderModel;
import io.tessera.engine.Tensors;
import java.util.ArrayList;
import java.util.List;

/** Prompt-tuning embeddings, one [N, hidden] tensor per adapter, written over the rows of a sequence's first N positions. */
final class PromptStore implements AdapterStore {
    static final AdapterStore.Type TYPE = PromptStore::new;

    private final DecoderModel model;
    private final NDManager manager;

    private PromptStore(DecoderModel model, NDManager parent) {
        this.model = model;
        this.manager = parent.newSubManager();
    }

    private record Prompt(NDArray embeddings, int tokens, long bytes) implements Placement {
    }

    @Override
    public long bytes(AdapterWeights adapter) {
        PromptTuningAdapter p = (PromptTuningAdapter) adapter;
        return (long) p.virtualTokens() * p.hidden() * model.dtype().getNumOfBytes();
    }

    @Override
    public Placement install(AdapterWeights adapter) {
        PromptTuningAdapter p = (PromptTuningAdapter) adapter;
        NDArray e = Tensors.create(manager, p.embeddings(), new Shape(p.virtualTokens(), p.hidden()), model.dtype());
        return new Prompt(e, p.virtualTokens(), bytes(adapter));
    }

    @Override
    public void reset(Placement placement) {
        // the tensor is the adapter's own: nothing is reused, closing it is the reset
        ((Prompt) placement).embeddings().close();
    }

    @Override
    public AdapterBatch batch(NDManager step, Placement[] rows, int[] positions, boolean[] generated) {
        // a sequence's virtual tokens are its first positions, all in its first step: runs of rows at 0..N-1
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] != null && positions[i] == 0) {
                starts.add(i);
            }
        }
        if (starts.isEmpty()) {
            return null;
        }
        return AdapterBatch.embedding(x -> {
            for (int start : starts) {
                Prompt p = (Prompt) rows[start];
                x.set(new NDIndex("{}:{}", start, start + p.tokens()), p.embeddings());
            }
            return x;
        });
    }

    @Override
    public void close() {
        manager.close();
    }
}
