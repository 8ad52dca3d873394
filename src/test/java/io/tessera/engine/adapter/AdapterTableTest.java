package io.tessera.engine.adapter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.Engine;
import io.tessera.engine.EngineOptions;
import io.tessera.engine.ResidentAdapter;
import io.tessera.engine.Sequence;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Residency: byte budget with LRU, pinning, holders, stable ids, load failures. */
class AdapterTableTest {
    private static final Path FIXTURES = Path.of("testdata/fixtures/adapters/llama-tiny");
    private static Engine engine;
    private static ExecutorService loader;

    @BeforeAll
    static void open() {
        engine = Engine.open(new EngineOptions(Path.of("testdata/fixtures/models/llama-tiny"), EngineOptions.Device.CPU, 4, 0));
        loader = Executors.newSingleThreadExecutor(r -> new Thread(r, "adapter-loader"));
    }

    @AfterAll
    static void close() {
        loader.shutdownNow();
        engine.close();
    }

    /** Plays the engine loop until the future completes. */
    private static ResidentAdapter await(CompletableFuture<ResidentAdapter> f) throws Exception {
        // polled in this thread: it plays the engine loop, whose work must stay on one thread
        Awaitility.await().atMost(Duration.ofSeconds(20)).pollInSameThread().pollInterval(Duration.ofMillis(2)).until(() -> {
            engine.runPending();
            return f.isDone();
        });
        return f.get(1, TimeUnit.SECONDS);
    }

    /** Engine bytes, what the budget counts: the rank bucket's slot (and DoRA row), not the file. */
    private static long bytesOf(String name) {
        return engine.adapters().bytes(new AdapterLoader(engine.model()).load(FIXTURES.resolve(name)));
    }

    @Test
    void evictsLeastRecentlyUsedWithinTheByteBudget() throws Exception {
        long qv = bytesOf("lora-qv");
        long dora = bytesOf("dora-qkvo");
        long prompt = bytesOf("prompt-8");
        AdapterTable table = new AdapterTable(engine, qv + dora + prompt - 1, loader);
        ResidentAdapter a = await(table.acquire("qv@1", FIXTURES.resolve("lora-qv")));
        await(table.acquire("dora@1", FIXTURES.resolve("dora-qkvo")));
        await(table.acquire("qv@1", FIXTURES.resolve("lora-qv")));          // qv is now the most recent
        await(table.acquire("prompt@1", FIXTURES.resolve("prompt-8")));
        engine.runPending();
        assertThat(table.isResident("qv@1")).isTrue();
        assertThat(table.isResident("dora@1")).isFalse();
        assertThat(table.isResident("prompt@1")).isTrue();
        assertThat(table.stats().evictions()).isEqualTo(1);
        assertThat(table.stats().hits()).isEqualTo(1);
        assertThat(table.stats().misses()).isEqualTo(3);
        assertThat(table.stats().loads()).isEqualTo(3);
        assertThat(table.stats().residentBytes()).isEqualTo(qv + prompt);
        assertThat(a.installed()).isTrue();
        table.invalidate("qv@1");
        table.invalidate("prompt@1");
        engine.runPending();
    }

    @Test
    void pinnedAndHeldAdaptersAreNeverEvictedAndANewOneWaitsForAHeldOneRatherThanExceedTheBudget() throws Exception {
        long qv = bytesOf("lora-qv");
        long all = bytesOf("lora-all");
        long dora = bytesOf("dora-qkvo");
        AdapterTable table = new AdapterTable(engine, qv, loader);   // room for one at a time
        table.pin("qv@1", null);
        ResidentAdapter pinned = await(table.acquire("qv@1", FIXTURES.resolve("lora-qv")));
        // nothing held: waiting would not help, so it goes in over the budget, and says so
        ResidentAdapter held = await(table.acquire("all@1", FIXTURES.resolve("lora-all")));
        Sequence s = engine.open(AttentionPolicy.FULL, held);
        CompletableFuture<ResidentAdapter> waiting = table.acquire("dora@1", FIXTURES.resolve("dora-qkvo"));
        engine.runPending();
        loader.submit(() -> { }).get(20, TimeUnit.SECONDS);   // the one loader thread has read it
        for (int round = 0; round < 3; round++) {
            engine.runPending();
        }
        assertThat(waiting).as("all@1 is held and will free: it waits").isNotDone();
        assertThat(table.isResident("qv@1")).as("pinned").isTrue();
        assertThat(table.isResident("all@1")).as("held by a sequence").isTrue();
        assertThat(pinned.installed()).isTrue();
        assertThat(table.stats().residentBytes()).isEqualTo(qv + all);
        assertThat(table.stats().overBudgetBytes()).isEqualTo(all);

        engine.release(s);
        await(waiting);
        assertThat(table.isResident("all@1")).as("let go, then evicted").isFalse();
        assertThat(table.stats().residentBytes()).isEqualTo(qv + dora);
        table.unpin("qv@1");
        for (String k : new String[] {"qv@1", "dora@1"}) {
            table.invalidate(k);
        }
        engine.runPending();
        assertThat(table.stats().resident()).isZero();
        assertThat(table.stats().overBudgetBytes()).isZero();
    }

    @Test
    void idsAreStablePerKeyAndNeverReused() throws Exception {
        AdapterTable table = new AdapterTable(engine, Long.MAX_VALUE, loader);
        ResidentAdapter first = await(table.acquire("qv@1", FIXTURES.resolve("lora-qv")));
        table.invalidate("qv@1");
        engine.runPending();
        assertThat(first.installed()).isFalse();
        ResidentAdapter again = await(table.acquire("qv@1", FIXTURES.resolve("lora-qv")));
        ResidentAdapter v2 = await(table.acquire("qv@2", FIXTURES.resolve("lora-qv")));
        assertThat(again.id()).isEqualTo(first.id());
        assertThat(v2.id()).isNotEqualTo(first.id());
        table.invalidate("qv@1");
        table.invalidate("qv@2");
        engine.runPending();
    }

    @Test
    void reportsLoadFailures() throws Exception {
        AdapterTable table = new AdapterTable(engine, Long.MAX_VALUE, loader);
        CompletableFuture<ResidentAdapter> f = table.acquire("missing@1", FIXTURES.resolve("does-not-exist"));
        assertThatThrownBy(() -> await(f)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(AdapterException.class).hasMessageContaining("adapter directory not found");
        assertThat(table.stats().failures()).isEqualTo(1);
    }
}
