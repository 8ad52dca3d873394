package io.tessera.cli;

import static io.tessera.TestSupport.DEMO_LLAMA;
import static io.tessera.TestSupport.FIXTURES;
import static io.tessera.TestSupport.SEED_ADAPTERS;
import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.TestSupport;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.Engine;
import io.tessera.engine.Sequence;
import io.tessera.engine.StepInput;
import io.tessera.engine.adapter.AdapterLoader;
import io.tessera.engine.ResidentAdapter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batch invariance across adapters: one step batch gives every row the logits it gets alone. On demo-llama the batch
 * mixes base rows, LoRAs of ranks 16 (research-lora), 8 and 32 (random), DoRA, prompt tuning and DePT; on moge-tiny
 * base rows, an attention LoRA and DoRA, prompt tuning, an expert-group adapter and DePT.
 */
class MixedBatchTest {
    private static final double TOLERANCE = 1e-4;
    private static final int DECODE_STEPS = 4;

    @TempDir
    static Path dir;
    static Engine engine;
    static ResidentAdapter researchLora;
    static ResidentAdapter rank8;
    static ResidentAdapter rank32;
    static ResidentAdapter dora;
    static ResidentAdapter prompt;
    static ResidentAdapter dept;

    @BeforeAll
    static void install() throws IOException {
        engine = TestSupport.openCpu(DEMO_LLAMA, 10, 0);
        AdapterLoader loader = new AdapterLoader(engine.model());
        Random rnd = new Random(5);
        long id = 1;
        researchLora = engine.adapters().install(id++, loader.load(SEED_ADAPTERS.resolve("demo-llama/research-lora")), "research-lora");
        // two idle rank-8 adapters first: with 1 of 3 slots in the step, the bucket's weights are gathered, not viewed
        for (int i = 0; i < 2; i++) {
            engine.adapters().install(id++, loader.load(Bench.writeRandomLora(dir.resolve("idle" + i), engine.config(), 8, rnd)), "idle");
        }
        rank8 = engine.adapters().install(id++, loader.load(Bench.writeRandomLora(dir.resolve("r8"), engine.config(), 8, rnd)), "r8");
        rank32 = engine.adapters().install(id++, loader.load(Bench.writeRandomLora(dir.resolve("r32"), engine.config(), 32, rnd)), "r32");
        dora = engine.adapters().install(id++, loader.load(SEED_ADAPTERS.resolve("demo-llama/research-dora")), "research-dora");
        prompt = engine.adapters().install(id++, loader.load(SEED_ADAPTERS.resolve("demo-llama/legal-prompt")), "legal-prompt");
        // max_length 8: prompts of 6 and 11 tokens, one decoding inside the updated positions, one past them
        dept = engine.adapters().install(id, loader.load(RandomAdapters.dept(dir.resolve("dept"), engine.config(), 5, 8, 4, rnd)), "dept");
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }

    /** One row: its adapter and its prompt (a prefix of one text, so base logits exist for every position). */
    record Row(ResidentAdapter adapter, int[] prompt) {
    }

    /** Per row: prefill logits of every prompt position, then the logits of each decode step. */
    private static List<List<float[]>> run(List<Row> rows, int[][] decodeTokens) {
        return run(engine, rows, decodeTokens);
    }

    private static List<List<float[]>> run(Engine engine, List<Row> rows, int[][] decodeTokens) {
        List<Sequence> seqs = new ArrayList<>();
        List<StepInput> prefill = new ArrayList<>();
        List<List<float[]>> out = new ArrayList<>();
        for (Row r : rows) {
            Sequence s = engine.open(AttentionPolicy.FULL, r.adapter(), r.prompt().length);
            seqs.add(s);
            prefill.add(new StepInput(s, r.prompt(), true));
            out.add(new ArrayList<>());
        }
        List<float[]> logits = engine.step(prefill);
        for (int i = 0; i < rows.size(); i++) {
            out.get(i).add(logits.get(i));
        }
        for (int step = 0; step < DECODE_STEPS; step++) {
            List<StepInput> decode = new ArrayList<>();
            for (int i = 0; i < rows.size(); i++) {
                decode.add(StepInput.next(seqs.get(i), decodeTokens[i][step]));
            }
            logits = engine.step(decode);
            for (int i = 0; i < rows.size(); i++) {
                out.get(i).add(logits.get(i));
            }
        }
        seqs.forEach(engine::release);
        return out;
    }

    @Test
    void everyRowOfAMixedBatchGetsWhatItGetsAlone() {
        int[] text = new Random(9).ints(12, 4, engine.config().vocabSize()).toArray();
        assertEveryRowAsAlone(engine, List.of(
                new Row(null, Arrays.copyOf(text, 12)),
                new Row(researchLora, Arrays.copyOf(text, 9)),
                new Row(rank8, Arrays.copyOf(text, 5)),
                new Row(rank32, Arrays.copyOf(text, 11)),
                new Row(rank32, Arrays.copyOf(text, 7)),
                new Row(dora, Arrays.copyOf(text, 10)),
                new Row(prompt, Arrays.copyOf(text, 6)),
                new Row(dept, Arrays.copyOf(text, 6)),
                new Row(dept, Arrays.copyOf(text, 11)),
                new Row(null, Arrays.copyOf(text, 8))));
    }

    @Test
    void everyKindOnAMoGeModelGetsWhatItGetsAlone() {
        try (Engine moge = TestSupport.openCpu(FIXTURES.resolve("models/moge-tiny"), 8, 0)) {
            AdapterLoader loader = new AdapterLoader(moge.model());
            Random rnd = new Random(13);
            long id = 1;
            ResidentAdapter lora = moge.adapters().install(id++, loader.load(RandomAdapters.attentionLora(dir.resolve("moge-lora"), moge.config(), 4, false, rnd)), "lora");
            ResidentAdapter dora = moge.adapters().install(id++, loader.load(RandomAdapters.attentionLora(dir.resolve("moge-dora"), moge.config(), 4, true, rnd)), "dora");
            ResidentAdapter prompt = moge.adapters().install(id++, loader.load(RandomAdapters.prompt(dir.resolve("moge-prompt"), moge.config(), 3, rnd)), "prompt");
            ResidentAdapter groups = moge.adapters().install(id++, loader.load(FIXTURES.resolve("adapters/moge-tiny/groups-1")), "groups-1");
            ResidentAdapter dept = moge.adapters().install(id, loader.load(RandomAdapters.dept(dir.resolve("moge-dept"), moge.config(), 4, 7, 2, rnd)), "dept");
            int[] text = rnd.ints(10, 4, moge.config().vocabSize()).toArray();
            assertEveryRowAsAlone(moge, List.of(
                    new Row(null, Arrays.copyOf(text, 10)),
                    new Row(lora, Arrays.copyOf(text, 8)),
                    new Row(dept, Arrays.copyOf(text, 4)),
                    new Row(dora, Arrays.copyOf(text, 9)),
                    new Row(groups, Arrays.copyOf(text, 7)),
                    new Row(prompt, Arrays.copyOf(text, 5)),
                    new Row(dept, Arrays.copyOf(text, 9)),
                    new Row(null, Arrays.copyOf(text, 6))));
        }
    }

    /** Rows 1 .. n-2 must use adapters, the first and last none (the first the longest prompt). */
    private static void assertEveryRowAsAlone(Engine engine, List<Row> rows) {
        int vocab = engine.config().vocabSize();
        Random rnd = new Random(rows.size());
        int[][] decode = new int[rows.size()][];
        for (int i = 0; i < rows.size(); i++) {
            decode[i] = rnd.ints(DECODE_STEPS, 4, vocab).toArray();
        }
        List<List<float[]>> batched = run(engine, rows, decode);
        for (int i = 0; i < rows.size(); i++) {
            List<float[]> alone = run(engine, List.of(rows.get(i)), new int[][] {decode[i]}).get(0);
            for (int step = 0; step <= DECODE_STEPS; step++) {
                assertThat(maxAbsDiff(batched.get(i).get(step), alone.get(step)))
                        .as("row %d (%s), %s", i, rows.get(i).adapter(), step == 0 ? "prefill" : "decode step " + step)
                        .isLessThanOrEqualTo(TOLERANCE);
            }
        }
        // the adapters matter: each adapter row's prefill differs from the base row's on the same prefix
        float[] base = batched.get(0).get(0);
        for (int i = 1; i < rows.size() - 1; i++) {
            float[] own = batched.get(i).get(0);
            assertThat(maxAbsDiff(own, Arrays.copyOf(base, own.length))).as("row %d vs base", i).isGreaterThan(0.05);
        }
    }

    @Test
    void aSlotTakenOverByAnotherAdapterServesTheNewWeights() throws IOException {
        AdapterLoader loader = new AdapterLoader(engine.model());
        Random rnd = new Random(11);
        // rank 64: a bucket of its own. Two idle residents fill slots 0 and 1, so a step with only slot 2 in it
        // reads gathered copies of that slot's weights, which the bank keeps across steps
        long id = 100;
        for (int i = 0; i < 2; i++) {
            engine.adapters().install(id++, loader.load(Bench.writeRandomLora(dir.resolve("idle64-" + i), engine.config(), 64, rnd)), "idle");
        }
        ResidentAdapter first = engine.adapters().install(id++, loader.load(Bench.writeRandomLora(dir.resolve("first"), engine.config(), 64, rnd)), "first");
        Path secondDir = Bench.writeRandomLora(dir.resolve("second"), engine.config(), 64, rnd);
        int[] prompt = rnd.ints(6, 4, engine.config().vocabSize()).toArray();
        int[][] decode = {rnd.ints(DECODE_STEPS, 4, engine.config().vocabSize()).toArray()};
        List<float[]> before = run(List.of(new Row(first, prompt)), decode).get(0);
        engine.adapters().uninstall(first);
        ResidentAdapter second = engine.adapters().install(id++, loader.load(secondDir), "second");   // slot 2 again
        List<float[]> reused = run(List.of(new Row(second, prompt)), decode).get(0);
        for (int i = 0; i < 2; i++) {   // slots 3 and 4: the bucket's stacks grow
            engine.adapters().install(id++, loader.load(Bench.writeRandomLora(dir.resolve("more64-" + i), engine.config(), 64, rnd)), "more");
        }
        List<float[]> grown = run(List.of(new Row(second, prompt)), decode).get(0);

        List<float[]> fresh;
        try (Engine other = TestSupport.openCpu(DEMO_LLAMA, 8, 0)) {
            ResidentAdapter only = other.adapters().install(1, new AdapterLoader(other.model()).load(secondDir), "second");
            fresh = run(other, List.of(new Row(only, prompt)), decode).get(0);
        }
        for (int step = 0; step <= DECODE_STEPS; step++) {
            assertThat(maxAbsDiff(reused.get(step), fresh.get(step))).as("slot reused, step %d", step).isLessThanOrEqualTo(TOLERANCE);
            assertThat(maxAbsDiff(grown.get(step), fresh.get(step))).as("bucket grown, step %d", step).isLessThanOrEqualTo(TOLERANCE);
        }
        assertThat(maxAbsDiff(reused.get(0), before.get(0))).as("the two adapters differ").isGreaterThan(0.05);
    }
}
