package io.tessera.engine;

import ai.djl.ndarray.NDArray;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The adapters of one step's rows, applied where the model asks: the input embeddings, the projection sites and
 * the routed experts. Built once per step; the number of NDArray operations it adds does not depend on how many
 * different adapters the rows use.
 */
public interface AdapterBatch {
    /** y = x W for the packed rows; returns y with every row's adapter delta (and DoRA scaling) applied. */
    NDArray apply(Site site, int layer, NDArray x, NDArray y);

    /**
     * Whether {@link #apply} only adds a delta to y, so y may come with the bias and residual already in it (one
     * addmm instead of a matmul and two adds). DoRA scales y, so it must get x W alone.
     */
    default boolean additive() {
        return true;
    }

    /** The packed rows' input embeddings [T, hidden] with the prompt kinds' changes: virtual tokens, DePT's update. */
    default NDArray embed(NDArray x) {
        return x;
    }

    /** Maps routed experts of rows that use expert-group adapters to the adapters' replacement experts. */
    default ExpertOverride experts() {
        return null;
    }

    AdapterBatch NONE = (site, layer, x, y) -> y;

    /** A part that changes only the input embeddings (the prompt kinds). */
    static AdapterBatch embedding(UnaryOperator<NDArray> embed) {
        return new AdapterBatch() {
            @Override
            public NDArray apply(Site site, int layer, NDArray x, NDArray y) {
                return y;
            }

            @Override
            public NDArray embed(NDArray x) {
                return embed.apply(x);
            }
        };
    }

    /** The stores' parts of one step, applied in order. */
    static AdapterBatch of(List<AdapterBatch> parts) {
        if (parts.size() < 2) {
            return parts.isEmpty() ? NONE : parts.get(0);
        }
        ExpertOverride experts = parts.stream().map(AdapterBatch::experts).filter(e -> e != null).findFirst().orElse(null);
        boolean additive = parts.stream().allMatch(AdapterBatch::additive);
        return new AdapterBatch() {
            @Override
            public NDArray apply(Site site, int layer, NDArray x, NDArray y) {
                for (AdapterBatch p : parts) {
                    y = p.apply(site, layer, x, y);
                }
                return y;
            }

            @Override
            public NDArray embed(NDArray x) {
                for (AdapterBatch p : parts) {
                    x = p.embed(x);
                }
                return x;
            }

            @Override
            public ExpertOverride experts() {
                return experts;
            }

            @Override
            public boolean additive() {
                return additive;
            }
        };
    }
}
