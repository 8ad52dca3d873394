package io.tessera.engine;

import java.util.ArrayList;
import java.util.List;

/** Records MoGE routing: per layer, per packed row, the selected experts group by group (for conformance). */
public final class RoutingTrace {
    private final List<int[][]> layers = new ArrayList<>();

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
