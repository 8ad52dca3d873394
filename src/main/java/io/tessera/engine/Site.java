package io.tessera.engine;

import java.util.List;

/**
 * The projections of a decoder layer as the engine runs them: q/k/v fused into one matmul and gate/up into
 * another (fewer, larger ops win on DJL). Adapters attach per HF module name, and each site knows which HF
 * modules it concatenates, in order.
 */
public enum Site {
    QKV("self_attn", List.of("q_proj", "k_proj", "v_proj")),
    O("self_attn", List.of("o_proj")),
    GATE_UP("mlp", List.of("gate_proj", "up_proj")),
    DOWN("mlp", List.of("down_proj"));

    public final String block;
    public final List<String> modules;

    Site(String block, List<String> modules) {
        this.block = block;
        this.modules = modules;
    }

    public static Site of(String module) {
        for (Site s : values()) {
            if (s.modules.contains(module)) {
                return s;
            }
        }
        throw new IllegalArgumentException("not a decoder projection: " + module);
    }
}
