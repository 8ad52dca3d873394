package io.tessera.engine.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.tessera.engine.AdapterBatch;
import io.tessera.engine.AdapterStore;
import io.tessera.engine.AdapterWeights;
import io.tessera.engine.DecoderModel;
import io.tessera.engine.Rows;
import io.tessera.engine.Site;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * LoRA and DoRA adapters: their A and B in slots of {@link RankBucket}s (8, 16, 32, ...), applied per step by one
 * {@link LoraGroup} per bucket present, then DoRA's per-row scale from {@link DoraScales}.
 */
final class LoraStore implements AdapterStore {
    static final AdapterStore.Type TYPE = LoraStore::new;

    private final LoraSites geo;
    private final NDManager manager;
    private final Map<Integer, RankBucket> buckets = new TreeMap<>();
    private DoraScales dora;   // made with the first DoRA adapter
    private long budgetBytes;

    private LoraStore(DecoderModel model, NDManager parent) {
        this.geo = LoraSites.of(model);
        this.manager = parent.newSubManager();
    }

    /** @param doraRow row in the DoRA tables, 0 for a plain LoRA */
    private record Slot(RankBucket bucket, int slot, int doraRow, long bytes) implements Placement {
    }

    private static LoraAdapter lora(AdapterWeights adapter) {
        return adapter instanceof DoraAdapter d ? d.lora() : (LoraAdapter) adapter;
    }

    @Override
    public long bytes(AdapterWeights adapter) {
        long slot = RankBucket.slotBytes(geo, RankBucket.rankOf(lora(adapter).maxRank()));
        return adapter instanceof DoraAdapter ? slot + DoraScales.rowBytes(geo) : slot;
    }

    @Override
    public void reserve(long bytes) {
        budgetBytes = bytes;
    }

    @Override
    public Placement install(AdapterWeights adapter) {
        RankBucket bucket = buckets.computeIfAbsent(RankBucket.rankOf(lora(adapter).maxRank()), r -> new RankBucket(geo, manager, r, budgetBytes));
        int slot = bucket.install(lora(adapter));
        int row = 0;
        if (adapter instanceof DoraAdapter d) {
            dora = dora == null ? new DoraScales(geo, manager) : dora;
            row = dora.install(d);
        }
        return new Slot(bucket, slot, row, bytes(adapter));
    }

    @Override
    public void reset(Placement placement) {
        Slot s = (Slot) placement;
        s.bucket().reset(s.slot());
        if (s.doraRow() > 0) {
            dora.reset(s.doraRow());
        }
    }

    /** Whether the placement's slot holds only zeros (tests: after a reset, nothing of the adapter is left). */
    static boolean slotIsZero(Placement placement) {
        Slot s = (Slot) placement;
        return s.bucket().isZero(s.slot());
    }

    @Override
    public AdapterBatch batch(NDManager step, Placement[] rows, int[] positions, boolean[] generated) {
        Map<RankBucket, List<int[]>> byBucket = new IdentityHashMap<>();
        long[] doraRows = null;
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] instanceof Slot s) {
                byBucket.computeIfAbsent(s.bucket(), k -> new ArrayList<>()).add(new int[] {i, s.slot()});
                if (s.doraRow() > 0) {
                    doraRows = doraRows == null ? new long[rows.length] : doraRows;
                    doraRows[i] = s.doraRow();
                }
            }
        }
        List<LoraGroup> groups = new ArrayList<>();
        byBucket.forEach((bucket, bucketRows) -> groups.add(new LoraGroup(step, bucket, bucketRows, rows.length, geo.model().dtype())));
        NDArray doraIdx = doraRows == null ? null : step.create(doraRows);
        return new AdapterBatch() {
            @Override
            public NDArray apply(Site site, int layer, NDArray x, NDArray y) {
                for (LoraGroup g : groups) {
                    if (g.sites.contains(site)) {
                        y = g.apply(site, layer, x, y);
                    }
                }
                if (doraIdx != null && dora.table(layer, site) != null) {
                    NDArray scale = Rows.select(dora.table(layer, site), doraIdx);
                    scale.attach(y.getManager());   // out of the step's scope into the layer's, with y
                    y = y.mul(scale);
                }
                return y;
            }

            @Override
            public boolean additive() {
                return doraIdx == null;
            }
        };
    }

    @Override
    public void close() {
        manager.close();
    }
}
