package io.tessera.engine;

import static io.tessera.TestSupport.DEMO_LLAMA;
import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.TestSupport;
import io.tessera.engine.adapter.LoraAdapter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * No row reads what another sequence left or computes: a sequence whose adapter has NaN weights (built here, past
 * upload validation) fills its KV slot and its activations with NaN; the slot is released and reused, or the row
 * runs next to others in one step, and every other row gets exactly the logits it gets in an engine that never saw
 * a NaN (the same steps, with a finite adapter of the same shape in the NaN one's place).
 */
class KvIsolationTest {
    private static final double TOLERANCE = 1e-5;
    private static final AttentionPolicy LM_INF = new AttentionPolicy.LmInfinite(2, 6, 6);
    private static final int[] PROMPT = new Random(3).ints(7, 4, 4096).toArray();
    private static final int[] LONG_PROMPT = new Random(4).ints(12, 4, 4096).toArray();
    private static final int[] DECODE = {11, 500, 42, 3000};

    /** A rank-8 LoRA on q, k and v of every layer, its A all NaN or small random values. */
    private static LoraAdapter lora(ModelConfig c, boolean nan) {
        Random rnd = new Random(8);
        int r = 8;
        int e = c.hiddenSize();
        Map<String, LoraAdapter.Module> modules = new HashMap<>();
        for (int l = 0; l < c.numLayers(); l++) {
            for (String name : List.of("q_proj", "k_proj", "v_proj")) {
                int out = (name.equals("q_proj") ? c.numHeads() : c.numKvHeads()) * c.headDim();
                float[] a = new float[r * e];
                float[] b = new float[out * r];
                for (int i = 0; i < a.length; i++) {
                    a[i] = nan ? Float.NaN : (float) rnd.nextGaussian() * 0.02f;
                }
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) rnd.nextGaussian() * 0.02f;
                }
                modules.put(LoraAdapter.key(l, name), new LoraAdapter.Module(l, name, r, 2f, a, b));
            }
        }
        return new LoraAdapter(r, modules, "all");
    }

    /** Installs the NaN adapter, or its finite twin. */
    private static ResidentAdapter install(Engine e, long id, boolean nan) {
        return e.adapters().install(id, lora(e.config(), nan), nan ? "nan" : "finite");
    }

    /** Steps the prompt of {@code s}, then decodes; {@code with} (if any) decodes in every one of those steps. */
    private static List<float[]> run(Engine e, Sequence s, int[] prompt, Sequence with) {
        List<float[]> out = new ArrayList<>();
        out.add(stepWith(e, StepInput.next(s, prompt), with));
        for (int t : DECODE) {
            out.add(stepWith(e, StepInput.next(s, t), with));
        }
        return out;
    }

    private static float[] stepWith(Engine e, StepInput in, Sequence with) {
        List<StepInput> inputs = new ArrayList<>(List.of(in));
        if (with != null) {
            inputs.add(StepInput.next(with, 99));
        }
        return e.step(inputs).get(0);
    }

    private static void assertSame(List<float[]> got, List<float[]> want, String what) {
        assertThat(got).hasSameSizeAs(want);
        for (int i = 0; i < want.size(); i++) {
            float[] a = got.get(i);
            float[] b = want.get(i);
            double max = 0;
            for (int k = 0; k < a.length; k++) {
                max = Math.max(max, Float.isFinite(a[k]) ? Math.abs((double) a[k] - b[k]) : Double.POSITIVE_INFINITY);
            }
            assertThat(max).as("%s, step %d", what, i).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    /**
     * A released slot that held NaN keys and values serves the next sequence as a fresh one. A longer sequence
     * steps alongside, so the new one's rows span cache columns past its own length (masked, yet multiplied).
     */
    @Test
    void aReusedSlotGivesWhatAFreshEngineGives() {
        for (AttentionPolicy policy : List.of(AttentionPolicy.FULL, LM_INF)) {
            List<List<float[]>> runs = new ArrayList<>();
            for (boolean nan : new boolean[] {true, false}) {
                try (Engine e = TestSupport.openCpu(DEMO_LLAMA, 3, 0)) {
                    ResidentAdapter a = install(e, 1, nan);
                    Sequence longer = e.open(policy, null);                      // slot 0
                    e.step(List.of(StepInput.next(longer, concat(LONG_PROMPT, LONG_PROMPT))));
                    Sequence poisoned = e.open(policy, a);                      // slot 1
                    e.step(List.of(StepInput.next(poisoned, LONG_PROMPT)));
                    e.step(List.of(StepInput.next(poisoned, 5)));
                    e.release(poisoned);
                    Sequence s = e.open(policy, null);                          // slot 1 again
                    runs.add(run(e, s, PROMPT, longer));
                }
            }
            assertSame(runs.get(0), runs.get(1), policy.toString());
        }
    }

    /**
     * A NaN sequence moved into a released lower slot leaves its old slot NaN. The sequence opened there (a base
     * row, or a finite LoRA of the same rank bucket) steps next to the NaN row in every step, then a prompt chunk
     * runs next to the NaN row's longer chunk: all get the finite engine's logits.
     */
    @Test
    void rowsNextToANaNRowAndInTheSlotItLeftAreUntouched() {
        for (AttentionPolicy policy : List.of(AttentionPolicy.FULL, LM_INF)) {
            for (boolean withLora : new boolean[] {false, true}) {
                List<List<float[]>> runs = new ArrayList<>();
                for (boolean nan : new boolean[] {true, false}) {
                    try (Engine e = TestSupport.openCpu(DEMO_LLAMA, 3, 0)) {
                        ResidentAdapter a = install(e, 1, nan);
                        ResidentAdapter fine = withLora ? install(e, 2, false) : null;
                        Sequence first = e.open(policy, null);                  // slot 0
                        Sequence poisoned = e.open(policy, a);                  // slot 1
                        e.step(List.of(StepInput.next(first, 7, 8, 9), StepInput.next(poisoned, LONG_PROMPT)));
                        e.release(first);                                       // poisoned moves to slot 0
                        Sequence s = e.open(policy, fine);                      // slot 1, which held NaN
                        List<float[]> logits = run(e, s, PROMPT, poisoned);
                        // padding positions of the shorter chunk must not come from the NaN row's tokens
                        Sequence t = e.open(policy, fine);
                        logits.add(e.step(List.of(StepInput.next(poisoned, LONG_PROMPT), StepInput.next(t, PROMPT))).get(1));
                        runs.add(logits);
                    }
                }
                assertSame(runs.get(0), runs.get(1), policy + (withLora ? " with a finite LoRA" : " base"));
            }
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
