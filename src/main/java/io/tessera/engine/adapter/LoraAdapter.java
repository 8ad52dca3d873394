package io.tessera.engine.adapter;

import java.util.Map;

/**
 * PEFT LoRA (rsLoRA and DoRA included): per targeted module y = W x + s B A x, or with DoRA
 * y = (m / ||W + s B A||_row) (W x + s B A x) + bias, the scale vector computed once at load.
 *
 * @param modules keyed by "layer.module", e.g. "3.q_proj"
 */
public record LoraAdapter(int maxRank, boolean dora, Map<String, Module> modules) implements Adapter {

    /**
     * @param a         [rank, in]
     * @param b         [out, rank]
     * @param scale     alpha / r, or alpha / sqrt(r) with rsLoRA
     * @param doraScale [out] m / ||W + s B A||_row, or null without DoRA
     */
    public record Module(int layer, String name, int rank, float scale, float[] a, float[] b, float[] doraScale) {
    }

    @Override
    public String peftType() {
        return "LORA";
    }

    @Override
    public long bytes() {
        long n = 0;
        for (Module m : modules.values()) {
            n += m.a.length + m.b.length + (m.doraScale == null ? 0 : m.doraScale.length);
        }
        return 4 * n;
    }

    public static String key(int layer, String module) {
        return layer + "." + module;
    }
}
