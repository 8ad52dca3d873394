package io.tessera.engine;

import ai.djl.ndarray.NDArray;

/**
 * The adapters of one step's rows, applied at the projection sites. Built once per step; the number of
 * NDArray operations it adds does not depend on how many different adapters the rows use.
 */
public interface AdapterBatch {
    /** y = x W for the packed rows; returns y with every row's adapter delta (and DoRA scaling) applied. */
    NDArray apply(Site site, int layer, NDArray x, NDArray y);

    /** Maps routed experts of rows that use expert-group adapters to the adapters' replacement experts. */
    default ExpertOverride experts() {
        return null;
    }

    AdapterBatch NONE = (site, layer, x, y) -> y;
}
