package io.tessera.engine;

import java.util.ArrayList;
import java.util.List;

/** Records MoGE routing: per layer, per packed row, the selected experts group by group (for conformance). */
public final class RoutingTrace {
    private final List<int[][]> layers = new ArrayList<>();
    private int[] inputStart = new int[0];
    private int[] inputLength = new int[0];

    void inputs(int[] start, int[] length) {
        inputStart = start;
        inputLength = length;
    }

    /** Routing of one step input (in the order given to the step): [layer][token][k]. */
    public int[][][] forInput(int input) {
        int[][][] out = new int[layers.size()][][];
        for (int l = 0; l < layers.size(); l++) {
            out[l] = java.util.Arrays.copyOfRange(layers.get(l), inputStart[input], inputStart[input] + inputLength[input]);
        }
        return out;
    }

    void record(int layer, int[][] expertsPerRow) {
        while (layers.size() <= layer) {
            layers.add(null);
        }
        layers.set(layer, expertsPerRow);
    }

    /** [layer][row][k] */
    public List<int[][]> layers() {
        return layers;
    }
}
