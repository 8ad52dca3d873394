package io.tessera.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.EngineOptions;
import io.tessera.engine.adapter.AdapterTable;
import io.tessera.engine.sampling.SamplingParams;
import io.tessera.runtime.AdapterRef;
import io.tessera.runtime.ModelHost;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The engine loop on the tiny fixture model: batching, chunked prefill, cancellation, adapters, limits. */
class SchedulerTest {
    static final Path MODEL = Path.of("testdata/fixtures/models/llama-tiny");
    static final Path LORA = Path.of("testdata/fixtures/adapters/llama-tiny/lora-qv");
    static final int MAX_NEW_TOKENS = 1_000_000;
    static final int MAX_PROMPT_TOKENS = 1000;

    private ModelHost host;
    private Scheduler scheduler;
    /** The scheduler's request timeout for the next start; none by default. */
    private Duration timeout;
    /** The scheduler's clock: it stands still unless a test moves it. */
    private final AtomicLong clock = new AtomicLong();
    /** The share of one tenant for the next start; 0: every slot (these tests mostly run one tenant). */
    private int perTenant;
    /** Engine step at which each request's tokens arrived, from the observer (called on the engine thread). */
    private final Map<GenerationRequest, List<Long>> tokenSteps = new ConcurrentHashMap<>();
    private volatile long steps;
    private volatile int widest;
    private volatile int heaviest;
    /** When set, the adapter loads done at each step, in step order. */
    private volatile List<Long> loadsPerStep;

    private final SchedulerObserver observer = new SchedulerObserver() {
        @Override
        public void firstToken(GenerationRequest r, long nanos) {
            tokenSteps.computeIfAbsent(r, k -> Collections.synchronizedList(new ArrayList<>())).add(steps);
        }

        @Override
        public void interToken(GenerationRequest r, long nanos) {
            firstToken(r, nanos);
        }

        @Override
        public void stepped(int sequences, int tokens) {
            if (loadsPerStep != null) {
                loadsPerStep.add(host.adapters().stats().loads());
            }
            steps++;
            widest = Math.max(widest, sequences);
            heaviest = Math.max(heaviest, tokens);
        }
    };

    private void start(int maxRunning, int maxQueued) {
        start(maxRunning, maxQueued, Executors.newSingleThreadExecutor());
    }

    private void start(int maxRunning, int maxQueued, ExecutorService loader) {
        host = ModelHost.open(new EngineOptions(MODEL, EngineOptions.Device.CPU, maxRunning, 0), 1L << 30, loader);
        scheduler = new Scheduler(host, new SchedulerOptions(maxRunning, 256, 32, maxQueued, 1, timeout, MAX_NEW_TOKENS, MAX_PROMPT_TOKENS,
                perTenant == 0 ? maxRunning : perTenant), observer, clock::get);
        scheduler.start();
    }

    @AfterEach
    void stop() {
        if (scheduler != null) {
            scheduler.close();
            host.close();
        }
    }

    /** What a listener saw. */
    static final class Collected extends GenerationListener.Completion {
        final StringBuilder text = new StringBuilder();
        final List<Integer> ids = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch firstToken = new CountDownLatch(1);
        /** What onUsage reported, summed: prompt tokens, generated tokens. */
        final java.util.concurrent.atomic.AtomicIntegerArray used = new java.util.concurrent.atomic.AtomicIntegerArray(2);

        @Override
        public void onUsage(int promptTokens, int generatedTokens) {
            used.addAndGet(0, promptTokens);
            used.addAndGet(1, generatedTokens);
        }

        @Override
        public void onToken(Generation.Token token) {
            text.append(token.text());
            ids.add(token.id());
            firstToken.countDown();
        }

        Finished await() throws Exception {
            return done.get(60, TimeUnit.SECONDS);
        }
    }

    private GenerationRequest request(String prompt, int maxTokens, AttentionPolicy attention, AdapterRef adapter) {
        return request(host.tokenizer().encode(prompt), maxTokens, attention, adapter);
    }

    private GenerationRequest request(int[] prompt, int maxTokens, AttentionPolicy attention, AdapterRef adapter) {
        return request("t", prompt, maxTokens, attention, adapter);
    }

    private GenerationRequest request(String tenant, int[] prompt, int maxTokens, AttentionPolicy attention, AdapterRef adapter) {
        SamplingParams params = SamplingParams.builder().temperature(0f).maxTokens(maxTokens).ignoreEos(true).build();
        return new GenerationRequest(tenant, "llama-tiny", adapter, prompt, params, attention);
    }

    private Scheduler.Handle submit(GenerationRequest r, Collected c) {
        try (Scheduler.Place place = scheduler.reserve()) {
            return place.submit(r, c);
        }
    }

    /** Polls what the engine thread publishes (counters, delivered calls) until it holds. */
    static ConditionFactory eventually() {
        return Awaitility.await().atMost(Duration.ofSeconds(10)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2));
    }

    /** The loop publishes its counters once per iteration, just after listeners may have heard of an end. */
    private void awaitRunning(int n) {
        eventually().untilAsserted(() -> assertThat(scheduler.running()).isEqualTo(n));
    }

    private void awaitIdle() throws InterruptedException {
        assertThat(scheduler.awaitIdle(Duration.ofSeconds(10))).isTrue();
        assertThat(scheduler.running()).isZero();
        assertThat(scheduler.queued()).isZero();
    }

    @Test
    void requestsOfDifferentLengthsJoinAndLeaveOneBatchWithExactUsage() throws Exception {
        start(4, 16);
        String[] prompts = {"Returns the number", "This License applies", "We propose a novel method for", "The", "In this paper"};
        Collected alone = new Collected();
        submit(request(prompts[2], 12, AttentionPolicy.FULL, null), alone);
        alone.await();

        List<Collected> all = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Collected c = new Collected();
            submit(request(prompts[i % prompts.length], 3 + 2 * i, AttentionPolicy.FULL, null), c);
            all.add(c);
        }
        for (int i = 0; i < all.size(); i++) {
            GenerationListener.Finished f = all.get(i).await();
            assertThat(f.reason()).isEqualTo(FinishReason.LENGTH);
            assertThat(f.completionTokens()).isEqualTo(3 + 2 * i);
            assertThat(f.promptTokens()).isEqualTo(host.tokenizer().encode(prompts[i % prompts.length]).length);
            assertThat(all.get(i).ids).hasSize(3 + 2 * i);
        }
        // batching does not change what greedy decoding produces
        assertThat(all.get(7).ids.subList(0, 12)).isEqualTo(alone.ids);
        // the limits: sequences per step and tokens per step
        assertThat(widest).isEqualTo(4);
        assertThat(heaviest).isLessThanOrEqualTo(256);
        awaitIdle();
    }

    @Test
    void aLongPromptIsPrefilledInChunksWhileAStreamKeepsGettingATokenEveryStep() throws Exception {
        start(2, 4);
        Collected stream = new Collected();
        GenerationRequest streaming = request("Returns the number", 60, AttentionPolicy.FULL, null);
        submit(streaming, stream);
        assertThat(stream.firstToken.await(30, TimeUnit.SECONDS)).isTrue();

        int[] longPrompt = IntStream.range(0, 600).map(i -> 4 + (i * 37) % 4000).toArray();
        Collected lm = new Collected();
        GenerationRequest longRequest = request(longPrompt, 4, new AttentionPolicy.LmInfinite(8, 128, 256), null);
        submit(longRequest, lm);
        assertThat(lm.await().completionTokens()).isEqualTo(4);
        stream.await();

        List<Long> at = tokenSteps.get(streaming);
        long firstLong = tokenSteps.get(longRequest).get(0);
        // 600 prompt tokens in chunks of 32 take many steps; the stream got a token in each of them
        assertThat(firstLong - at.get(0)).isGreaterThan(600 / 32);
        for (int i = 1; i < at.size() && at.get(i) <= firstLong; i++) {
            assertThat(at.get(i) - at.get(i - 1)).isEqualTo(1);
        }
        awaitIdle();
    }

    @Test
    void aCancelledStreamFreesItsSlotWithinAStep() throws Exception {
        start(2, 4);
        Collected c = new Collected();
        Scheduler.Handle h = submit(request("Returns the number", 200, AttentionPolicy.FULL, null), c);
        assertThat(c.firstToken.await(30, TimeUnit.SECONDS)).isTrue();
        awaitRunning(1);
        h.cancel();
        awaitIdle();
        assertThat(scheduler.kvBytesInUse()).isZero();
        assertThat(c.done).isNotDone();
        assertThat(c.ids.size()).isLessThan(200);
    }

    /** A loader thread that reads no adapter until {@code release} opens. */
    private static ExecutorService gatedLoader(CountDownLatch release) {
        ExecutorService gated = Executors.newSingleThreadExecutor();
        gated.execute(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return gated;
    }

    @Test
    void aRequestWaitingForItsAdapterDoesNotHoldUpOthers() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService gated = gatedLoader(release);
        start(2, 4, gated);
        AdapterRef lora = AdapterRef.fromDirectory(LORA).orElseThrow();
        Collected adapted = new Collected();
        submit(request("Returns the number", 5, AttentionPolicy.FULL, lora), adapted);
        Collected base = new Collected();
        submit(request("Returns the number", 5, AttentionPolicy.FULL, null), base);

        assertThat(base.await().completionTokens()).isEqualTo(5);
        assertThat(adapted.done).isNotDone();
        awaitRunning(0);   // the adapter request waits in the queue, holding no place
        assertThat(scheduler.queued()).isOne();
        release.countDown();
        assertThat(adapted.await().completionTokens()).isEqualTo(5);
        assertThat(adapted.ids).isNotEqualTo(base.ids);
        assertThat(host.adapters().stats().loads()).isEqualTo(1);
        awaitIdle();
    }

    @Test
    void aRequestWhoseAdapterFailsToLoadFailsWithTheLoadersErrorAfterOneLoad() throws Exception {
        start(2, 4);
        Collected broken = new Collected();
        submit(request("Returns the number", 2, AttentionPolicy.FULL,
                new AdapterRef("gone", 1, "gone", LORA.resolveSibling("does-not-exist"), 0)), broken);
        assertThatThrownBy(broken::await).rootCause().hasMessageEndingWith("adapter directory not found");
        assertThat(host.adapters().stats().failures()).isOne();
        awaitIdle();
    }

    @Test
    void aStreamGetsATokenEveryStepWhileFiftyColdAdaptersLoadAndEachStepWaitsForAFewInstallsAtMost() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService gated = gatedLoader(release);
        start(2, 64, gated);
        List<Long> loadsAtStep = Collections.synchronizedList(new ArrayList<>());
        loadsPerStep = loadsAtStep;
        Collected stream = new Collected();
        GenerationRequest streaming = request("Returns the number", 1000, new AttentionPolicy.LmInfinite(8, 128, 256), null);
        Scheduler.Handle streamHandle = submit(streaming, stream);
        assertThat(stream.firstToken.await(30, TimeUnit.SECONDS)).isTrue();

        List<GenerationRequest> cold = IntStream.range(0, 50).mapToObj(i -> request("Returns the number", 2,
                AttentionPolicy.FULL, new AdapterRef("cold-" + i, 1, "cold-" + i, LORA, 0))).toList();
        List<Collected> heard = cold.stream().map(r -> {
            Collected c = new Collected();
            submit(r, c);
            return c;
        }).toList();
        // every load is held up: the fifty wait in the queue, none holding the free place, and the stream goes on
        long held = steps;
        eventually().untilAsserted(() -> assertThat(steps).isGreaterThan(held + 10));
        assertThat(scheduler.running()).isOne();
        assertThat(scheduler.queued()).isEqualTo(50);

        release.countDown();
        for (Collected c : heard) {
            assertThat(c.await().completionTokens()).isEqualTo(2);
        }
        assertThat(host.adapters().stats().loads()).isEqualTo(50);
        List<Long> loads = List.copyOf(loadsAtStep);
        List<Long> at = List.copyOf(tokenSteps.get(streaming));
        long lastInstall = loads.indexOf(50L);
        assertThat(lastInstall).as("the installs spread over steps").isGreaterThanOrEqualTo(50 / (2 * AdapterTable.INSTALLS_PER_ROUND));
        // two rounds of engine work before each step: the loop's, and Engine.step's own
        for (int i = 1; i < loads.size(); i++) {
            assertThat(loads.get(i) - loads.get(i - 1)).isLessThanOrEqualTo(2 * AdapterTable.INSTALLS_PER_ROUND);
        }
        // the stream got its token in every step, before, during and after the loads
        assertThat(stream.done).as("the stream still runs").isNotDone();
        for (int i = 1; i < at.size(); i++) {
            assertThat(at.get(i) - at.get(i - 1)).isEqualTo(1);
        }
        streamHandle.cancel();
        awaitIdle();
    }

    @Test
    void fullAttentionRefusesPromptPlusMaxTokensBeyondTheContextButLmInfiniteDoesNot() throws Exception {
        start(1, 4);
        int[] prompt = IntStream.range(0, 200).map(i -> 4 + i).toArray();
        try (Scheduler.Place place = scheduler.reserve()) {
            assertThatThrownBy(() -> place.submit(request(prompt, 100, AttentionPolicy.FULL, null), new Collected()))
                    .isInstanceOf(ContextLengthException.class)
                    .hasMessageContaining("256").hasMessageContaining("200 prompt tokens").hasMessageContaining("100 max_tokens")
                    .hasMessageContaining("lm-infinite");
        }
        assertThat(scheduler.queued()).isZero();
        Collected lm = new Collected();
        submit(request(prompt, 100, new AttentionPolicy.LmInfinite(8, 64, 256), null), lm);
        assertThat(lm.await().completionTokens()).isEqualTo(100);
        awaitIdle();
    }

    @Test
    void aFullQueueIsRefusedAndPlacesComeBack() {
        start(1, 2);
        Scheduler.Place a = scheduler.reserve();
        Scheduler.Place b = scheduler.reserve();
        assertThatThrownBy(scheduler::reserve).isInstanceOf(QueueFullException.class);
        a.close();
        scheduler.reserve().close();
        b.close();
        assertThat(scheduler.queued()).isZero();
    }

    @Test
    void drainingRefusesNewRequestsAndLetsRunningOnesFinish() throws Exception {
        start(2, 4);
        Collected c = new Collected();
        submit(request("Returns the number", 20, AttentionPolicy.FULL, null), c);
        scheduler.drain();
        assertThatThrownBy(scheduler::reserve).isInstanceOf(UnavailableException.class);
        assertThat(c.await().completionTokens()).isEqualTo(20);
        awaitIdle();
    }

    @Test
    void aRequestPastItsDeadlineEndsWithATimeoutAndFreesItsSlot() throws Exception {
        timeout = Duration.ofMillis(300);
        start(2, 4);
        // LM-Infinite has no context limit: this request would run far past its deadline
        Collected endless = new Collected();
        submit(request("Returns the number", 1_000_000, new AttentionPolicy.LmInfinite(8, 64, 64), null), endless);
        eventually().until(() -> endless.ids.size() >= 5);
        assertThat(endless.done).as("the clock has not reached the deadline").isNotDone();
        clock.set(timeout.toNanos() + 1);
        assertThatThrownBy(endless::await).hasCauseInstanceOf(RequestTimeoutException.class)
                .hasMessageContaining("300 ms");
        assertThat(endless.ids).isNotEmpty();
        // billed for what it used: its prompt and every token it produced before the deadline
        assertThat(endless.used.get(0)).isEqualTo(host.tokenizer().encode("Returns the number").length);
        assertThat(endless.used.get(1)).isEqualTo(endless.ids.size());
        awaitIdle();
        assertThat(scheduler.kvBytesInUse()).isZero();
        // a request within its limit is untouched
        Collected quick = new Collected();
        submit(request("Returns the number", 4, AttentionPolicy.FULL, null), quick);
        assertThat(quick.await().completionTokens()).isEqualTo(4);
    }

    /** A token id past the vocabulary reaches the engine (the API refuses it): only the step finds it, in torch. */
    private int[] poisoned() {
        return new int[] {5, host.engine().config().vocabSize() + 7};
    }

    @Test
    void aRequestThatFailsInsideAStepFailsAloneAndItsNeighboursGetTheirSoloText() throws Exception {
        start(4, 8);
        String[] prompts = {"Returns the number", "This License applies"};
        List<List<Integer>> solo = new ArrayList<>();
        for (String p : prompts) {
            Collected c = new Collected();
            submit(request(p, 24, AttentionPolicy.FULL, null), c);
            c.await();
            solo.add(c.ids);
        }
        List<Collected> neighbours = new ArrayList<>();
        for (String p : prompts) {
            Collected c = new Collected();
            submit(request(p, 24, AttentionPolicy.FULL, null), c);
            neighbours.add(c);
        }
        for (Collected c : neighbours) {
            assertThat(c.firstToken.await(30, TimeUnit.SECONDS)).isTrue();
        }
        // joins the running streams' batch: that step throws, is split, and only the poisoned row loses it
        Collected bad = new Collected();
        submit(request(poisoned(), 4, AttentionPolicy.FULL, null), bad);
        assertThatThrownBy(bad::await).isInstanceOf(java.util.concurrent.ExecutionException.class);
        for (int i = 0; i < prompts.length; i++) {
            assertThat(neighbours.get(i).await().completionTokens()).isEqualTo(24);
            assertThat(neighbours.get(i).ids).as("greedy text next to a failing row").isEqualTo(solo.get(i));
        }
        awaitIdle();
        assertThat(scheduler.healthy()).isTrue();

        // bad requests alone, more than the run that marks a broken engine: the probe step clears the engine
        for (int i = 0; i <= Scheduler.BROKEN_AFTER_FAILED_STEPS; i++) {
            Collected again = new Collected();
            submit(request(poisoned(), 4, AttentionPolicy.FULL, null), again);
            assertThatThrownBy(again::await).isInstanceOf(java.util.concurrent.ExecutionException.class);
        }
        awaitIdle();
        assertThat(scheduler.healthy()).as("bad requests never move liveness").isTrue();
        assertThat(scheduler.kvBytesInUse()).isZero();
    }

    @Test
    void stepsFailingForEveryInputAndTheProbeMarkTheEngineBrokenUntilAStepSucceeds() throws Exception {
        start(4, 8);
        EngineFaults.breakProbe(scheduler);   // the probe fails as a broken engine's would
        for (int i = 0; i < Scheduler.BROKEN_AFTER_FAILED_STEPS; i++) {
            assertThat(scheduler.healthy()).isTrue();
            Collected again = new Collected();
            submit(request(poisoned(), 4, AttentionPolicy.FULL, null), again);
            assertThatThrownBy(again::await).isInstanceOf(java.util.concurrent.ExecutionException.class);
        }
        awaitIdle();
        assertThat(scheduler.healthy()).as(Scheduler.BROKEN_AFTER_FAILED_STEPS + " engine failures in a row").isFalse();

        // the loop still runs: a good request completes, and a good step clears the mark
        Collected good = new Collected();
        submit(request("Returns the number", 4, AttentionPolicy.FULL, null), good);
        assertThat(good.await().completionTokens()).isEqualTo(4);
        assertThat(scheduler.healthy()).isTrue();
        awaitIdle();
        assertThat(scheduler.kvBytesInUse()).isZero();
    }

    @Test
    void oneTenantsLongStreamsLeaveRoomForAnotherTenant() throws Exception {
        int slots = 8;
        perTenant = SchedulerOptions.halfTheSlots(slots);   // the service's default
        start(slots, 80);
        List<Scheduler.Handle> a = new ArrayList<>();
        List<Collected> streams = new ArrayList<>();
        AttentionPolicy endless = new AttentionPolicy.LmInfinite(8, 64, 256);
        for (int i = 0; i < 64; i++) {
            Collected c = new Collected();
            a.add(submit(request("a", host.tokenizer().encode("Returns the number"), 100_000, endless, null), c));
            streams.add(c);
        }
        assertThat(streams.get(0).firstToken.await(30, TimeUnit.SECONDS)).isTrue();
        awaitRunning(SchedulerOptions.halfTheSlots(slots));
        Collected b = new Collected();
        GenerationRequest other = request("b", host.tokenizer().encode("This License applies"), 4, AttentionPolicy.FULL, null);
        long before = steps;
        submit(other, b);
        // read once it is queued: steps the loop ran while this thread waited to submit are not the request's wait
        long queued = steps;
        assertThat(b.await().completionTokens()).isEqualTo(4);
        // admitted at the next iteration, its one-chunk prompt gives its first token in that step
        long first = tokenSteps.get(other).get(0);
        assertThat(first).isGreaterThanOrEqualTo(before);
        assertThat(first - queued).isLessThanOrEqualTo(3L);
        assertThat(widest).as("tenant a never holds more than its share").isLessThanOrEqualTo(SchedulerOptions.halfTheSlots(slots) + 1);
        a.forEach(Scheduler.Handle::cancel);
        awaitIdle();
    }

    @Test
    void maxTokensAboveMaxNewTokensAndPromptsAboveMaxPromptTokensAreRefusedUnderLmInfiniteToo() {
        start(1, 4);
        try (Scheduler.Place place = scheduler.reserve()) {
            int[] prompt = IntStream.range(0, MAX_PROMPT_TOKENS + 1).map(i -> 4 + i % 1000).toArray();
            assertThatThrownBy(() -> place.submit(request(prompt, 1, new AttentionPolicy.LmInfinite(8, 64, 256), null), new Collected()))
                    .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.param()).isEqualTo("prompt"))
                    .hasMessageContaining("tessera.scheduler.max-prompt-tokens").hasMessageContaining("" + MAX_PROMPT_TOKENS);
            assertThatThrownBy(() -> place.submit(request("Returns the number", MAX_NEW_TOKENS + 1,
                    new AttentionPolicy.LmInfinite(8, 64, 256), null), new Collected()))
                    .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.param()).isEqualTo("max_tokens"))
                    .hasMessageContaining("tessera.scheduler.max-new-tokens").hasMessageContaining("" + MAX_NEW_TOKENS);
        }
    }

    @Test
    void aCancelledStreamHasReportedItsPromptAndEveryTokenItProduced() throws Exception {
        start(2, 4);
        int[] prompt = IntStream.range(0, 100).map(i -> 4 + i).toArray();   // several prefill chunks
        Collected c = new Collected();
        Scheduler.Handle h = submit(request(prompt, 150, AttentionPolicy.FULL, null), c);
        assertThat(c.firstToken.await(30, TimeUnit.SECONDS)).isTrue();
        h.cancel();
        awaitIdle();
        // usage comes on the delivery thread before the tokens of its step
        eventually().untilAsserted(() -> assertThat(c.used.get(1)).isEqualTo(c.ids.size()));
        assertThat(c.used.get(0)).isEqualTo(prompt.length);
        assertThat(c.used.get(1)).isEqualTo(c.ids.size()).isBetween(1, 149);
    }
}
