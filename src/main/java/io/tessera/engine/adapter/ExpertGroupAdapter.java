package io.tessera.engine.adapter;

import java.util.List;

/**
 * Replacement experts for whole expert groups of a MoGE model.
 *
 * @param experts base expert ids replaced, ascending
 * @param gateUp  per layer, the replaced experts stacked as [n, hidden, 2 * inter] (gate | up)
 * @param down    per layer [n, inter, hidden]
 */
public record ExpertGroupAdapter(List<Integer> groups, int[] experts, float[][] gateUp, float[][] down) implements Adapter {
    @Override
    public String peftType() {
        return "MOGE_EXPERT_GROUPS";
    }

    @Override
    public long bytes() {
        long n = 0;
        for (int l = 0; l < gateUp.length; l++) {
            n += gateUp[l].length + down[l].length;
        }
        return 4 * n;
    }
}
