package io.tessera.engine.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.tessera.engine.Site;
import io.tessera.engine.Tensors;
import java.util.Arrays;
import java.util.BitSet;

/**
 * DoRA's per-output scale m / ||W + sBA||: one row per resident DoRA adapter in a table per layer and site, row 0
 * (and every free row) all ones, so a step multiplies every row by a gather of it.
 */
final class DoraScales {
    private final LoraSites geo;
    private final NDManager manager;
    private final NDArray[][] tables;          // [layer][site] : [rows, out]
    private final BitSet used = new BitSet();

    DoraScales(LoraSites geo, NDManager manager) {
        this.geo = geo;
        this.manager = manager;
        this.tables = new NDArray[geo.layers()][LoraSites.SITE_COUNT];
        for (int l = 0; l < geo.layers(); l++) {
            for (Site site : geo.sites()) {
                tables[l][site.ordinal()] = manager.ones(new Shape(2, geo.out(site)), geo.model().dtype());
            }
        }
        used.set(0);
    }

    /** Engine bytes one row takes, over all layers and sites. */
    static long rowBytes(LoraSites geo) {
        return (long) geo.layers() * geo.sites().stream().mapToInt(geo::out).sum() * geo.model().dtype().getNumOfBytes();
    }

    /** Writes the adapter's scales into a free row (the tables grow when none is) and returns it. */
    int install(DoraAdapter dora) {
        int row = used.nextClearBit(1);
        used.set(row);
        for (int l = 0; l < geo.layers(); l++) {
            for (Site site : geo.sites()) {
                NDArray table = tables[l][site.ordinal()];
                long rows = table.getShape().get(0);
                if (row >= rows) {
                    try (NDArray more = manager.ones(new Shape(rows, geo.out(site)), geo.model().dtype())) {
                        NDArray grown = table.concat(more, 0);
                        table.close();
                        table = grown;
                    }
                    tables[l][site.ordinal()] = table;
                }
                float[] v = new float[geo.out(site)];
                Arrays.fill(v, 1f);
                for (String module : site.modules) {
                    float[] s = dora.scales().get(LoraAdapter.key(l, module));
                    if (s != null) {
                        System.arraycopy(s, 0, v, geo.model().outputRange(site, module)[0], s.length);
                    }
                }
                try (NDArray vec = Tensors.create(manager, v, new Shape(v.length), geo.model().dtype())) {
                    table.set(new NDIndex("{}", row), vec);
                }
            }
        }
        return row;
    }

    /** Sets the row back to ones and frees it. */
    void reset(int row) {
        // a scalar of our own: set(index, Number) would leave one in the manager per call
        try (NDArray one = manager.ones(new Shape(), geo.model().dtype())) {
            for (int l = 0; l < geo.layers(); l++) {
                for (Site site : geo.sites()) {
                    tables[l][site.ordinal()].set(new NDIndex("{}", row), one);
                }
            }
        }
        used.clear(row);
    }

    /** [rows, out] of a layer's site, or null where LoRA does not attach. */
    NDArray table(int layer, Site site) {
        return tables[layer][site.ordinal()];
    }
}
