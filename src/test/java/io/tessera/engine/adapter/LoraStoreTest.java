package io.tessera.engine.adapter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import io.tessera.engine.AdapterStore;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.Engine;
import io.tessera.engine.EngineOptions;
import io.tessera.engine.ResidentAdapter;
import io.tessera.engine.Sequence;
import io.tessera.engine.StepInput;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The LoRA store's slots: what a reset leaves and what an installed adapter costs. */
class LoraStoreTest {
    private static final Path FIXTURES = Path.of("testdata/fixtures/adapters/llama-tiny");
    private static Engine engine;
    private static AdapterLoader loader;

    @BeforeAll
    static void open() {
        engine = Engine.open(new EngineOptions(Path.of("testdata/fixtures/models/llama-tiny"), EngineOptions.Device.CPU, 1, 0));
        loader = new AdapterLoader(engine.model());
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    void aResetSlotIsZeroAndItsNextAdapterFindsNothingOfThePrevious() {
        Adapter all = loader.load(FIXTURES.resolve("lora-all"));
        Adapter qv = loader.load(FIXTURES.resolve("lora-qv"));
        try (NDManager manager = NDManager.newBaseManager(); AdapterStore store = LoraStore.TYPE.create(engine.model(), manager)) {
            AdapterStore.Placement first = store.install(all);
            assertThat(LoraStore.slotIsZero(first)).isFalse();
            store.reset(first);
            assertThat(LoraStore.slotIsZero(first)).as("every site of the freed slot").isTrue();
            // lora-qv (r 4) lands in the same rank-8 slot; o, gate/up and down held lora-all's weights before
            AdapterStore.Placement second = store.install(qv);
            assertThat(second).usingRecursiveComparison().comparingOnlyFields("bucket", "slot").isEqualTo(first);
            store.reset(second);
            assertThat(LoraStore.slotIsZero(second)).isTrue();
        }
    }

    @Test
    void slotsPastTheReservedBudgetGrowTheStacksAndKeepWhatIsInstalled() {
        Adapter all = loader.load(FIXTURES.resolve("lora-all"));
        Adapter qv = loader.load(FIXTURES.resolve("lora-qv"));
        try (Engine e = Engine.open(new EngineOptions(Path.of("testdata/fixtures/models/llama-tiny"), EngineOptions.Device.CPU, 1, 0))) {
            // room for 5 slots: more than a bucket starts with unreserved (4), fewer than installed below
            e.adapters().reserve(5 * e.adapters().bytes(all));
            ResidentAdapter first = e.adapters().install(1, all, "all");
            float[] before = lastLogits(e, first);
            List<ResidentAdapter> more = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                more.add(e.adapters().install(2 + i, i % 2 == 0 ? qv : all, "more-" + i));
            }
            assertThat(lastLogits(e, first)).as("lora-all after the stacks grew past the reservation").containsExactly(before);
            assertThat(lastLogits(e, more.get(7))).as("the last slot, written after the growth").containsExactly(before);
            more.forEach(e.adapters()::uninstall);
            assertThat(more.stream().allMatch(r -> !r.installed())).isTrue();
        }
    }

    @Test
    void aStepOnSomeOfTheLastStepsSlotsReusesTheirWeightsButNeverARewrittenSlot() {
        Adapter all = loader.load(FIXTURES.resolve("lora-all"));
        Adapter qv = loader.load(FIXTURES.resolve("lora-qv"));
        try (Engine e = Engine.open(new EngineOptions(Path.of("testdata/fixtures/models/llama-tiny"), EngineOptions.Device.CPU, 4, 0))) {
            List<ResidentAdapter> r = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                r.add(e.adapters().install(1 + i, i % 2 == 0 ? all : qv, "a-" + i));
            }
            float[] allSolo = lastLogits(e, r.get(0));
            float[] qvSolo = lastLogits(e, r.get(1));
            // 3 of 8 slots: their weights are gathered; then 2 of those 3: the same gathered weights serve
            assertRows(stepRows(e, r.get(2), r.get(5), r.get(6)), allSolo, qvSolo, allSolo);
            assertRows(stepRows(e, r.get(2), r.get(5)), allSolo, qvSolo);
            // slot 5 now holds lora-all: a step on it must read the new weights, not the gathered copy of lora-qv
            e.adapters().uninstall(r.get(5));
            ResidentAdapter again = e.adapters().install(20, all, "again");
            assertRows(stepRows(e, r.get(2), again), allSolo, allSolo);
        }
    }

    /** The last logits of one step of each adapter's sequence on the same prompt, all in one batch. */
    private static List<float[]> stepRows(Engine e, ResidentAdapter... adapters) {
        List<Sequence> seqs = new ArrayList<>();
        try {
            List<StepInput> inputs = new ArrayList<>();
            for (ResidentAdapter a : adapters) {
                Sequence s = e.open(AttentionPolicy.FULL, a);
                seqs.add(s);
                inputs.add(StepInput.next(s, new int[] {1, 5, 9, 2}));
            }
            return e.step(inputs);
        } finally {
            seqs.forEach(e::release);
        }
    }

    private static void assertRows(List<float[]> rows, float[]... expected) {
        assertThat(rows).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            for (int k = 0; k < expected[i].length; k++) {
                assertThat(rows.get(i)[k]).as("row %d logit %d", i, k).isCloseTo(expected[i][k], within(1e-4f));
            }
        }
    }

    private static float[] lastLogits(Engine e, ResidentAdapter adapter) {
        Sequence s = e.open(AttentionPolicy.FULL, adapter);
        try {
            return e.step(List.of(StepInput.next(s, new int[] {1, 5, 9, 2}))).get(0);
        } finally {
            e.release(s);
        }
    }

    @Test
    void anAdapterCostsItsRankBucketsSlotNotItsFile() {
        Adapter qv = loader.load(FIXTURES.resolve("lora-qv"));
        Adapter all = loader.load(FIXTURES.resolve("lora-all"));
        long slot = engine.adapters().bytes(qv);
        // r 4 rounds up to the rank-8 bucket, whose slots hold every site, as lora-all (r 8, every module) needs
        assertThat(slot).isEqualTo(engine.adapters().bytes(all)).isGreaterThanOrEqualTo(all.bytes()).isGreaterThan(2 * qv.bytes());
        Adapter dora = loader.load(FIXTURES.resolve("dora-qkvo"));
        assertThat(engine.adapters().bytes(dora)).as("a DoRA adds its scale row").isGreaterThan(slot);
    }
}
