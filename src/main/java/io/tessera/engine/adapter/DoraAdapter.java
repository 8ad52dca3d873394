package io.tessera.engine.adapter;

import io.tessera.engine.AdapterStore;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * PEFT DoRA: a LoRA whose targeted modules compute y = (m / ||W + s B A||_row) (W x + s B A x), the scale vector
 * computed once at load. Installed in {@link LoraStore} next to plain LoRAs, the scale in its {@link DoraScales}.
 *
 * @param scales per module key of {@code lora}, [out] m / ||W + s B A||_row
 */
public record DoraAdapter(LoraAdapter lora, Map<String, float[]> scales) implements Adapter {

    @Override
    public AdapterStore.Type storeType() {
        return LoraStore.TYPE;
    }

    @Override
    public Description describe() {
        return new Description(Adapter.Kind.DORA, lora.maxRank(), null, null, null, lora.targetModules());
    }

    @Override
    public long bytes() {
        return lora.bytes() + 4 * scales.values().stream().mapToLong(s -> s.length).sum();
    }

    /** The magnitude vectors of {@code lora}'s modules, read from the source, as scales; their tensors join {@code used}. */
    static DoraAdapter of(AdapterSource source, LoraAdapter lora, Set<String> used) {
        Map<String, float[]> scales = new LinkedHashMap<>();
        for (Map.Entry<String, LoraAdapter.Module> e : lora.modules().entrySet()) {
            LoraAdapter.Module m = e.getValue();
            int out = m.b().length / m.rank();
            String name = m.tensorPrefix() + ".lora_magnitude_vector";
            float[] mag = source.tensor(name, out);
            used.add(name);
            int in = m.a().length / m.rank();
            scales.put(e.getKey(), scale(source.model().baseWeight(m.layer(), m.name()), m.a(), m.b(), m.scale(), mag, out, in, m.rank()));
        }
        return new DoraAdapter(lora, scales);
    }

    /** m / ||W + s B A|| per output row, with W [out, in], A [r, in], B [out, r]. */
    static float[] scale(float[] w, float[] a, float[] b, float s, float[] mag, int out, int in, int r) {
        float[] res = new float[out];
        double[] row = new double[in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                row[i] = w[o * in + i];
            }
            for (int k = 0; k < r; k++) {
                double bk = s * (double) b[o * r + k];
                for (int i = 0; i < in; i++) {
                    row[i] += bk * a[k * in + i];
                }
            }
            double n = 0;
            for (int i = 0; i < in; i++) {
                n += row[i] * row[i];
            }
            res[o] = (float) (mag[o] / Math.sqrt(n));
        }
        return res;
    }
}
