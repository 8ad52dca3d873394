package io.tessera.engine.adapter;

import io.tessera.engine.DecoderModel;
import io.tessera.engine.ModelConfig;
import io.tessera.engine.Site;
import java.util.List;

/** The projection sites LoRA attaches to on this model (attention only on a MoGE model) and their sizes. */
record LoraSites(DecoderModel model, List<Site> sites) {
    static final int SITE_COUNT = Site.values().length;

    static LoraSites of(DecoderModel model) {
        return new LoraSites(model, model.hasDenseMlp() ? List.of(Site.values()) : List.of(Site.QKV, Site.O));
    }

    int layers() {
        return model.config().numLayers();
    }

    int in(Site site) {
        ModelConfig c = model.config();
        return switch (site) {
            case QKV, GATE_UP -> c.hiddenSize();
            case O -> c.numHeads() * c.headDim();
            case DOWN -> c.intermediateSize();
        };
    }

    int out(Site site) {
        ModelConfig c = model.config();
        return switch (site) {
            case QKV -> (c.numHeads() + 2 * c.numKvHeads()) * c.headDim();
            case O, DOWN -> c.hiddenSize();
            case GATE_UP -> 2 * c.intermediateSize();
        };
    }

    /** Widths of a site's modules in output order. */
    int[] moduleWidths(Site site) {
        return site.modules.stream().mapToInt(mod -> {
            int[] r = model.outputRange(site, mod);
            return r[1] - r[0];
        }).toArray();
    }

    SiteLayout layout(Site site, int rank) {
        return SiteLayout.choose(rank, in(site), moduleWidths(site));
    }
}
