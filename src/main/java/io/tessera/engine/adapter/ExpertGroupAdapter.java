package io.tessera.engine.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.engine.AdapterStore;
import io.tessera.engine.DecoderModel;
import io.tessera.engine.ModelConfig;
import io.tessera.engine.ModelConfig.MoeConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Replacement experts for whole expert groups of a MoGE model. Installed in {@link ExpertStore}.
 *
 * @param experts base expert ids replaced, ascending
 * @param gateUp  per layer, the replaced experts stacked as [n, hidden, 2 * inter] (gate | up)
 * @param down    per layer [n, inter, hidden]
 */
public record ExpertGroupAdapter(List<Integer> groups, int[] experts, float[][] gateUp, float[][] down) implements Adapter {
    @Override
    public AdapterStore.Type storeType() {
        return ExpertStore.TYPE;
    }

    @Override
    public Description describe() {
        return new Description(Adapter.Kind.MOGE_EXPERT_GROUPS, null, null, null, groups,
                "expert groups " + groups.stream().map(String::valueOf).collect(Collectors.joining(",")));
    }

    @Override
    public long bytes() {
        long n = 0;
        for (int l = 0; l < gateUp.length; l++) {
            n += gateUp[l].length + down[l].length;
        }
        return 4 * n;
    }

    static ExpertGroupAdapter parse(AdapterSource source) {
        ModelConfig config = source.model().config();
        JsonNode cfg = source.json();
        MoeConfig moe = config.moe().orElseThrow(() -> source.badConfig(
                "MOGE_EXPERT_GROUPS adapters need a MoGE base model, this one is " + config.modelType()));
        if (cfg.has("num_experts") && cfg.get("num_experts").asLong() != moe.numExperts()
                || cfg.has("num_expert_groups") && cfg.get("num_expert_groups").asLong() != moe.numExpertGroups()) {
            throw source.badConfig("num_experts / num_expert_groups do not match the base model ("
                    + moe.numExperts() + " / " + moe.numExpertGroups() + ")");
        }
        JsonNode g = cfg.get("expert_groups");
        if (g == null || !g.isArray() || g.isEmpty()) {
            throw source.badConfig("expert_groups must be a non-empty list");
        }
        TreeSet<Integer> groups = new TreeSet<>();
        for (JsonNode n : g) {
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 0 || n.asInt() >= moe.numExpertGroups()) {
                throw source.badConfig("expert group " + n + " is outside 0.." + (moe.numExpertGroups() - 1));
            }
            groups.add(n.asInt());
        }
        int per = moe.expertsPerGroup();
        int[] experts = groups.stream().flatMapToInt(x -> IntStream.range(x * per, x * per + per)).toArray();
        int e = config.hiddenSize();
        int inter = moe.moeIntermediateSize();
        float[][] gu = new float[config.numLayers()][];
        float[][] dn = new float[config.numLayers()][];
        Set<String> expected = new HashSet<>();
        for (int l = 0; l < config.numLayers(); l++) {
            String p = "model.layers." + l + ".mlp.";
            float[] lgu = new float[experts.length * e * 2 * inter];
            float[] ldn = new float[experts.length * inter * e];
            for (int i = 0; i < experts.length; i++) {
                for (String proj : List.of("gate_proj", "up_proj", "down_proj")) {
                    String name = p + "experts." + experts[i] + "." + proj + ".weight";
                    expected.add(name);
                    if (!source.checkpoint().has(name)) {
                        throw source.badWeights("missing tensor " + name);
                    }
                }
                float[][] one = DecoderModel.readExperts(source.checkpoint(), p, experts[i], 1, e, inter);
                source.finite(p + "experts." + experts[i], one[0]);
                source.finite(p + "experts." + experts[i], one[1]);
                System.arraycopy(one[0], 0, lgu, i * one[0].length, one[0].length);
                System.arraycopy(one[1], 0, ldn, i * one[1].length, one[1].length);
            }
            gu[l] = lgu;
            dn[l] = ldn;
        }
        for (String name : source.checkpoint().names()) {
            if (!expected.contains(name)) {
                throw source.badWeights("tensor " + name + " is not an expert of the listed expert_groups " + groups);
            }
        }
        return new ExpertGroupAdapter(List.copyOf(groups), experts, gu, dn);
    }
}
