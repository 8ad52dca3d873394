package io.tessera.engine.adapter;

import io.tessera.engine.AdapterStore;
import io.tessera.engine.DecoderModel;
import io.tessera.engine.Site;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * PEFT LoRA (rsLoRA included): per targeted module y = W x + s B A x. Installed in {@link LoraStore}'s rank buckets.
 *
 * @param modules       keyed by "layer.module", e.g. "3.q_proj"
 * @param targetModules target_modules as the registry shows it
 */
public record LoraAdapter(int maxRank, Map<String, Module> modules, String targetModules) implements Adapter {
    private static final List<String> PROJECTIONS = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
    private static final String PREFIX = "base_model.model.";

    /**
     * @param a     [rank, in]
     * @param b     [out, rank]
     * @param scale alpha / r, or alpha / sqrt(r) with rsLoRA
     */
    public record Module(int layer, String name, int rank, float scale, float[] a, float[] b) {
        /** The module's name in the checkpoint, without the weight's suffix. */
        String tensorPrefix() {
            return PREFIX + "model.layers." + layer + "." + Site.of(name).block + "." + name;
        }
    }

    public static String key(int layer, String module) {
        return layer + "." + module;
    }

    @Override
    public AdapterStore.Type storeType() {
        return LoraStore.TYPE;
    }

    @Override
    public Description describe() {
        return new Description(Adapter.Kind.LORA, maxRank, null, null, null, targetModules);
    }

    @Override
    public long bytes() {
        return 4 * modules.values().stream().mapToLong(m -> m.a.length + m.b.length).sum();
    }

    /** LORA peft_type: a LoRA, or with use_dora a {@link DoraAdapter}. */
    static Adapter parse(AdapterSource source) {
        LoraConfig config = new LoraConfig(source);
        DecoderModel model = source.model();
        Map<String, Module> modules = new LinkedHashMap<>();
        Set<String> used = new HashSet<>();
        int maxRank = 0;
        for (int l = 0; l < model.config().numLayers(); l++) {
            for (String proj : PROJECTIONS) {
                Site site = Site.of(proj);
                boolean mlp = site.block.equals("mlp");
                String module = "model.layers." + l + "." + site.block + "." + proj;
                if (!config.targets(module, l)) {
                    continue;
                }
                if (mlp && !model.hasDenseMlp()) {
                    throw source.badConfig("target " + proj + " is an expert MLP of a MoGE model; LoRA there is not supported");
                }
                int rank = config.rank(module);
                double a = config.alpha(module);
                float scale = (float) (config.rs ? a / Math.sqrt(rank) : a / rank);
                if (!(scale > 0) || !Float.isFinite(scale)) {
                    throw source.badConfig("the scaling of " + module + " (lora_alpha / alpha_pattern " + a + " over "
                            + (config.rs ? "sqrt(r) " : "r ") + rank + ") is not a positive finite float32");
                }
                int in = model.inputSize(proj);
                int[] range = model.outputRange(site, proj);
                int out = range[1] - range[0];
                if (rank > Math.min(in, out)) {
                    // full rank already; larger only costs memory (every slot of the rank's bucket, on every site)
                    throw source.badConfig("rank " + rank + " of " + module + " (r / rank_pattern) is above min(in, out) = "
                            + Math.min(in, out));
                }
                String base = PREFIX + module;
                float[] wa = source.tensor(base + ".lora_A.weight", rank, in);
                float[] wb = source.tensor(base + ".lora_B.weight", out, rank);
                used.add(base + ".lora_A.weight");
                used.add(base + ".lora_B.weight");
                modules.put(key(l, proj), new Module(l, proj, rank, scale, wa, wb));
                maxRank = Math.max(maxRank, rank);
            }
        }
        if (modules.isEmpty()) {
            throw source.badConfig("target_modules " + AdapterLoader.brief(source.json().get("target_modules").toString())
                    + " match no module of the base model");
        }
        LoraAdapter lora = new LoraAdapter(maxRank, modules, source.config().targetModules());
        Adapter result = config.dora ? DoraAdapter.of(source, lora, used) : lora;
        for (String name : source.checkpoint().names()) {
            if (!used.contains(name)) {
                throw source.badWeights("tensor " + name + " does not belong to any targeted module of the base model");
            }
        }
        return result;
    }
}
