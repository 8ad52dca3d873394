package io.tessera.engine.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.tessera.engine.AdapterBatch;
import io.tessera.engine.AdapterStore;
import io.tessera.engine.AdapterWeights;
import io.tessera.engine.DecoderModel;
import io.tessera.engine.ExpertOverride;
import io.tessera.engine.ModelConfig;
import io.tessera.engine.Site;
import io.tessera.engine.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Replacement experts of the resident expert-group adapters, stacked per layer; rebuilt on every install and reset,
 * so the stacks hold exactly the resident adapters' experts.
 */
final class ExpertStore implements AdapterStore {
    static final AdapterStore.Type TYPE = ExpertStore::new;

    private final DecoderModel model;
    private final ModelConfig config;
    private final NDManager manager;
    private final List<Experts> resident = new ArrayList<>();
    private NDArray[] gateUp;   // per layer [A, E, 2I], null when none is resident
    private NDArray[] down;     // per layer [A, I, E]

    private ExpertStore(DecoderModel model, NDManager parent) {
        this.model = model;
        this.config = model.config();
        this.manager = parent.newSubManager();
    }

    /** @param map base expert id -> index in the stacks, -1 where the base expert stays */
    private record Experts(ExpertGroupAdapter adapter, int[] map, long bytes) implements Placement {
    }

    @Override
    public long bytes(AdapterWeights adapter) {
        return ((ExpertGroupAdapter) adapter).bytes() / 4 * model.dtype().getNumOfBytes();
    }

    @Override
    public Placement install(AdapterWeights adapter) {
        Experts x = new Experts((ExpertGroupAdapter) adapter, new int[config.moe().orElseThrow().numExperts()], bytes(adapter));
        resident.add(x);
        rebuild();
        return x;
    }

    @Override
    public void reset(Placement placement) {
        resident.remove((Experts) placement);
        rebuild();
    }

    private void rebuild() {
        if (gateUp != null) {
            Arrays.stream(gateUp).forEach(NDArray::close);
            Arrays.stream(down).forEach(NDArray::close);
            gateUp = null;
            down = null;
        }
        if (resident.isEmpty()) {
            return;
        }
        int layers = config.numLayers();
        int e = config.hiddenSize();
        int inter = config.moe().orElseThrow().moeIntermediateSize();
        gateUp = new NDArray[layers];
        down = new NDArray[layers];
        int total = 0;
        for (Experts x : resident) {
            Arrays.fill(x.map(), -1);
            for (int i = 0; i < x.adapter().experts().length; i++) {
                x.map()[x.adapter().experts()[i]] = total + i;
            }
            total += x.adapter().experts().length;
        }
        for (int l = 0; l < layers; l++) {
            NDList gu = new NDList();
            NDList dn = new NDList();
            for (Experts x : resident) {
                int n = x.adapter().experts().length;
                gu.add(Tensors.create(manager, x.adapter().gateUp()[l], new Shape(n, e, 2 * inter), model.dtype()));
                dn.add(Tensors.create(manager, x.adapter().down()[l], new Shape(n, inter, e), model.dtype()));
            }
            gateUp[l] = gu.size() == 1 ? gu.get(0) : NDArrays.concat(gu, 0);
            down[l] = dn.size() == 1 ? dn.get(0) : NDArrays.concat(dn, 0);
            if (gu.size() > 1) {
                gu.close();
                dn.close();
            }
        }
    }

    @Override
    public AdapterBatch batch(NDManager step, Placement[] rows, int[] positions, boolean[] generated) {
        int[][] maps = new int[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            maps[i] = rows[i] == null ? null : ((Experts) rows[i]).map();
        }
        ExpertOverride override = new ExpertOverride(maps, gateUp, down);
        return new AdapterBatch() {
            @Override
            public NDArray apply(Site site, int layer, NDArray x, NDArray y) {
                return y;
            }

            @Override
            public ExpertOverride experts() {
                return override;
            }
        };
    }

    @Override
    public void close() {
        manager.close();
    }
}
