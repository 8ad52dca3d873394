package io.tessera.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.sampling.SampledToken;
import io.tessera.engine.sampling.SamplingParams;
import io.tessera.runtime.AdapterRef;
import io.tessera.scheduler.SchedulerCore.Admission;
import io.tessera.scheduler.SchedulerCore.Effects;
import io.tessera.scheduler.SchedulerCore.StepPlan;
import io.tessera.scheduler.SchedulerCore.StepResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The scheduler's core driven step by step: no engine, no thread, no clock. A step's "logits" are one number, the
 * token the stand-in decoding samples; time is whatever the test passes.
 */
class SchedulerCoreTest {
    private static final long SECOND = Duration.ofSeconds(1).toNanos();

    /** Samples the token the logits name; ends with length after {@code maxTokens}. */
    static final class Counting implements Decoding {
        private final int maxTokens;
        private int generated;

        Counting(int maxTokens) {
            this.maxTokens = maxTokens;
        }

        @Override
        public Generation.Token next(float[] logits) {
            generated++;
            int id = (int) logits[0];
            return new Generation.Token(new SampledToken(id, Float.NaN, List.of()), "<" + id + ">",
                    generated >= maxTokens ? FinishReason.LENGTH : null);
        }

        @Override
        public int generated() {
            return generated;
        }

        @Override
        public String matchedStop() {
            return null;
        }
    }

    /** What a listener heard, as one line per call. */
    static final class Heard implements GenerationListener {
        final List<String> calls = new ArrayList<>();

        @Override
        public void onToken(Generation.Token token) {
            calls.add("token " + token.id());
        }

        @Override
        public void onFinish(Finished f) {
            calls.add("finish " + f.reason().openAi() + " " + f.promptTokens() + "/" + f.completionTokens() + "/"
                    + f.cachedTokens());
        }

        @Override
        public void onError(Throwable error) {
            calls.add("error " + error.getClass().getSimpleName());
        }

        @Override
        public void onUsage(int promptTokens, int generatedTokens) {
            calls.add("usage " + promptTokens + "+" + generatedTokens);
        }
    }

    /** Ends and steps the core reported. */
    private final List<String> observed = new ArrayList<>();
    private final SchedulerObserver observer = new SchedulerObserver() {
        @Override
        public void ended(GenerationRequest r, Outcome outcome, long nanos, int prompt, int cached, int generated) {
            observed.add(r.tenant() + " " + outcome.label() + " after " + nanos);
        }

        @Override
        public void stepped(int sequences, int tokens) {
            observed.add("step " + sequences + "/" + tokens);
        }
    };

    private SchedulerCore core;
    /** Whether a waiting job's adapter is resident (jobs without one always are). */
    private Predicate<Job> ready = j -> true;

    private void start(int maxRunning, int perTenant, Duration timeout) {
        start(new SchedulerOptions(maxRunning, 64, 32, 16, 1, timeout, 1000, 1000, perTenant));
    }

    private void start(SchedulerOptions options) {
        core = new SchedulerCore(options, observer);
    }

    private Job job(String tenant, int promptTokens, int maxTokens, long now) {
        int[] prompt = IntStream.range(0, promptTokens).map(i -> 10 + i).toArray();
        GenerationRequest r = new GenerationRequest(tenant, "m", null, prompt, SamplingParams.greedy(maxTokens),
                AttentionPolicy.FULL);
        return new Job(r, new Heard(), new Counting(maxTokens), now, core::noteCancel);
    }

    private Job submit(String tenant, int promptTokens, int maxTokens, long now) {
        assertThat(core.reserve()).isTrue();
        Job j = job(tenant, promptTokens, maxTokens, now);
        core.enqueue(j);
        return j;
    }

    /** One slot, two jobs of one tenant. */
    private record Two(Job running, Job waiting) {
    }

    private Two oneRunsOneWaits(int promptTokens, int maxTokens) {
        start(1, 1, null);
        Two two = new Two(submit("a", promptTokens, maxTokens, 0), submit("a", promptTokens, maxTokens, 0));
        admit(0);
        return two;
    }

    private static List<String> heard(Job j) {
        return ((Heard) j.listener).calls;
    }

    /** Hands the listener calls over, as the delivery thread would. */
    private static Effects deliver(Effects e) {
        e.calls().forEach(Runnable::run);
        return e;
    }

    /** Admits and opens what may join, nothing from the prefix cache. */
    private Admission admit(long now) {
        Admission a = core.admit(now, ready);
        deliver(a.effects());
        a.open().forEach(j -> core.opened(j, 0, 0));
        return a;
    }

    /** Plans a step and runs it: every row succeeds and samples {@code token}. */
    private Effects step(int token, long now) {
        StepPlan plan = core.schedule();
        int n = plan.rows().size();
        float[][] logits = new float[n][];
        for (int k = 0; k < n; k++) {
            logits[k] = new float[] {token};
        }
        return deliver(core.update(plan, new StepResult(logits, new RuntimeException[n]), now));
    }

    @Test
    void waitingJobsAreAdmittedTenantsTakingTurnsFirstInFirstOutWithinATenant() {
        start(3, 3, null);
        Job a1 = submit("a", 4, 4, 0);
        Job a2 = submit("a", 4, 4, 0);
        Job a3 = submit("a", 4, 4, 0);
        Job b1 = submit("b", 4, 4, 0);
        assertThat(core.queued()).isEqualTo(4);

        Admission a = admit(0);

        assertThat(a.open()).containsExactly(a1, b1, a2);
        assertThat(a.load()).isEmpty();
        assertThat(a3.state()).isEqualTo(JobState.WAITING);
        assertThat(core.queued()).isEqualTo(1);
        assertThat(core.running()).containsExactly(a1, b1, a2);
    }

    @Test
    void aTenantAtItsShareWaitsWhileAnotherTenantTakesTheFreeSlots() {
        start(4, SchedulerOptions.halfTheSlots(4), null);
        List<Job> as = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            as.add(submit("a", 4, 1, 0));
        }
        assertThat(admit(0).open()).containsExactly(as.get(0), as.get(1));
        assertThat(core.active()).as("a slot stays open to other tenants").isEqualTo(2);

        Job b = submit("b", 4, 1, 0);
        assertThat(admit(0).open()).containsExactly(b);
        assertThat(as.get(2).state()).isEqualTo(JobState.WAITING);

        step(7, 1);   // one token each: all three finish, tenant a is below its share again
        assertThat(admit(2).open()).containsExactly(as.get(2), as.get(3));
    }

    @Test
    void aRowThatFailsItsStepFailsAloneAndTheOthersGoOn() {
        start(2, 2, null);
        Job good = submit("a", 4, 3, 0);
        Job bad = submit("b", 4, 3, 0);
        admit(0);
        StepPlan plan = core.schedule();
        assertThat(plan.rows()).extracting(SchedulerCore.Row::job).containsExactly(good, bad);

        Effects e = deliver(core.update(plan, new StepResult(new float[][] {{7}, null},
                new RuntimeException[] {null, new IllegalArgumentException("index out of range")}), 5));

        assertThat(e.freed()).containsExactly(bad);
        assertThat(bad.state()).isEqualTo(JobState.ABORTED);
        assertThat(heard(bad)).containsExactly("error IllegalArgumentException");
        assertThat(heard(good)).containsExactly("usage 4+1", "token 7");
        assertThat(core.running()).containsExactly(good);
        assertThat(observed).containsExactly("step 1/8", "b error after 5");
        // the survivor decodes on: its next row feeds the token it sampled
        assertThat(core.schedule().rows()).singleElement().satisfies(r -> assertThat(r.tokens()).containsExactly(7));
    }

    @Test
    void jobsPastTheirDeadlineTimeOutByTheClockWaitingOrRunning() {
        start(1, 1, Duration.ofSeconds(1));
        Job running = submit("a", 4, 100, 0);
        Job waiting = submit("a", 4, 100, SECOND / 2);
        admit(0);
        step(7, 10);

        assertThat(admit(SECOND).effects().freed()).as("at the deadline, not past it").isEmpty();
        Admission past = admit(SECOND + 1);

        assertThat(past.effects().freed()).containsExactly(running);
        assertThat(running.state()).isEqualTo(JobState.ABORTED);
        assertThat(heard(running)).containsExactly("usage 4+1", "token 7", "error RequestTimeoutException");
        assertThat(waiting.state()).as("half a second younger").isEqualTo(JobState.RUNNING);
        assertThat(past.open()).containsExactly(waiting);

        Admission later = admit(SECOND + SECOND / 2 + 1);
        assertThat(later.effects().freed()).containsExactly(waiting);
        assertThat(heard(waiting)).containsExactly("error RequestTimeoutException");
        assertThat(observed).containsExactly("step 1/4", "a timeout after " + (SECOND + 1), "a timeout after " + (SECOND + 1));
        assertThat(core.active()).isZero();
        assertThat(core.queued()).isZero();
    }

    @Test
    void aQueuedJobThatTimesOutGivesItsPlaceBack() {
        start(1, 1, Duration.ofSeconds(1));
        submit("a", 4, 100, 0);
        Job queued = submit("a", 4, 100, 0);
        admit(0);
        Admission a = admit(2 * SECOND);
        assertThat(queued.state()).isEqualTo(JobState.ABORTED);
        assertThat(a.effects().freed()).doesNotContain(queued);   // it never held a slot
        assertThat(heard(queued)).containsExactly("error RequestTimeoutException");
        assertThat(core.queued()).isZero();
    }

    @Test
    void aCancelledQueuedJobEndsSilentlyAndGivesItsPlaceBack() {
        Two two = oneRunsOneWaits(4, 100);
        two.waiting().cancel();

        Admission a = admit(3);

        assertThat(two.waiting().state()).isEqualTo(JobState.ABORTED);
        assertThat(a.effects().freed()).isEmpty();
        assertThat(heard(two.waiting())).as("a cancel is not told").isEmpty();
        assertThat(observed).containsExactly("a cancelled after 3");
        assertThat(core.queued()).isZero();
        assertThat(core.running()).containsExactly(two.running());
    }

    @Test
    void aCancelledRunningJobFreesItsSlotForTheNextWaitingJobAtTheNextAdmit() {
        Two two = oneRunsOneWaits(4, 100);
        step(7, 1);
        two.running().cancel();
        assertThat(two.running().state()).as("the core acts on its own thread only").isEqualTo(JobState.RUNNING);

        Admission next = admit(2);

        assertThat(next.effects().freed()).containsExactly(two.running());
        assertThat(two.running().state()).isEqualTo(JobState.ABORTED);
        assertThat(heard(two.running())).containsExactly("usage 4+1", "token 7");
        assertThat(next.open()).containsExactly(two.waiting());
        assertThat(core.running()).containsExactly(two.waiting());
    }

    @Test
    void aFinishedRowFreesItsSlotAndTheNextJobIsAdmitted() {
        Two two = oneRunsOneWaits(3, 2);
        assertThat(step(7, 1).freed()).isEmpty();
        assertThat(admit(1).open()).as("the only slot is taken").isEmpty();

        Effects e = step(8, 2);

        assertThat(e.freed()).containsExactly(two.running());
        assertThat(two.running().state()).isEqualTo(JobState.FINISHED);
        assertThat(heard(two.running())).containsExactly("usage 3+1", "token 7", "usage 0+1", "token 8", "finish length 3/2/0");
        assertThat(core.running()).isEmpty();
        assertThat(admit(3).open()).containsExactly(two.waiting());
    }

    @Test
    void aLongPromptIsFedInChunksBilledAsFedFromWhatThePrefixCacheGave() {
        start(new SchedulerOptions(1, 32, 32, 4, 1, null, 1000, 1000, 1));
        Job j = submit("a", 80, 2, 0);
        Admission a = core.admit(0, ready);
        core.opened(a.open().get(0), 10, 0);   // 10 prompt tokens came from the prefix cache

        List<List<Integer>> chunks = new ArrayList<>();
        List<Boolean> completes = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            StepPlan plan = core.schedule();
            SchedulerCore.Row row = plan.rows().get(0);
            chunks.add(IntStream.of(row.tokens()).boxed().toList());
            completes.add(row.completesPrompt());
            deliver(core.update(plan, new StepResult(new float[][] {{9}}, new RuntimeException[1]), i));
        }

        assertThat(chunks.get(0)).hasSize(32).startsWith(20);   // prompt ids are 10 + position
        assertThat(chunks.get(1)).hasSize(32);
        assertThat(chunks.get(2)).hasSize(6).endsWith(89);
        assertThat(chunks.get(3)).containsExactly(9);
        assertThat(completes).containsExactly(false, false, true, false);
        assertThat(heard(j)).containsExactly("usage 42+0", "usage 32+0", "usage 6+1", "token 9", "usage 0+1", "token 9",
                "finish length 80/2/10");
    }

    @Test
    void virtualTokensCountInTheFirstStepOnly() {
        start(new SchedulerOptions(2, 40, 32, 4, 1, null, 1000, 1000, 2));
        submit("a", 8, 4, 0);
        Job prompted = submit("a", 8, 4, 0);
        Admission a = core.admit(0, ready);
        core.opened(a.open().get(0), 0, 0);
        core.opened(prompted, 0, 20);

        StepPlan first = core.schedule();
        assertThat(first.rows()).extracting(r -> r.tokens().length).containsExactly(8, 8);
        assertThat(prompted.entry().virtualTokens()).isEqualTo(20);
        deliver(core.update(first, new StepResult(new float[][] {{1}, {2}}, new RuntimeException[2]), 1));
        assertThat(prompted.entry().virtualTokens()).isZero();
    }

    @Test
    void whileSequencesDecodeNewOnesJoinEveryJoinIntervalSteps() {
        start(new SchedulerOptions(4, 64, 32, 8, 3, null, 1000, 1000, 4));
        submit("a", 2, 100, 0);
        admit(0);
        step(1, 0);
        Job late = submit("a", 2, 100, 0);
        assertThat(admit(1).open()).as("one step since the last join").isEmpty();
        step(1, 1);
        assertThat(admit(2).open()).isEmpty();
        step(1, 2);
        assertThat(admit(3).open()).containsExactly(late);
    }

    private Job submitAdapted(String tenant, long now) {
        assertThat(core.reserve()).isTrue();
        AdapterRef lora = AdapterRef.fromDirectory(SchedulerTest.LORA).orElseThrow();
        GenerationRequest r = new GenerationRequest(tenant, "m", lora, new int[] {1, 2, 3}, SamplingParams.greedy(2),
                AttentionPolicy.FULL);
        Job j = new Job(r, new Heard(), new Counting(2), now, core::noteCancel);
        core.enqueue(j);
        return j;
    }

    @Test
    void aJobWhoseAdapterIsNotResidentWaitsWithoutAPlaceWhileReadyJobsGoFirst() {
        start(1, 1, null);
        Set<Job> loading = new HashSet<>();
        ready = j -> !loading.contains(j);
        Job cold = submitAdapted("a", 0);
        loading.add(cold);
        Job base = submit("a", 3, 1, 0);

        assertThat(admit(0).open()).as("the later ready job goes first").containsExactly(base);
        assertThat(cold.state()).isEqualTo(JobState.WAITING);
        assertThat(cold.passedOver).isOne();
        step(7, 1);
        assertThat(admit(1).open()).as("alone, it waits for its adapter in the queue").isEmpty();
        assertThat(core.active()).isZero();
        assertThat(cold.passedOver).as("waiting alone is not being passed over").isOne();

        loading.clear();
        assertThat(admit(2).open()).containsExactly(cold);
    }

    @Test
    void aJobPassedOverMaxPassedOverTimesIsAdmittedToLoadAndEndsOnceIfItFails() {
        start(1, 1, null);
        Job cold = submitAdapted("a", 0);
        ready = j -> j != cold;
        for (int i = 0; i < SchedulerCore.MAX_PASSED_OVER; i++) {
            Job base = submit("b", 3, 1, i);
            assertThat(admit(i).open()).containsExactly(base);
            step(7, i);
        }
        Job next = submit("b", 3, 1, 100);

        Admission a = core.admit(100, ready);
        assertThat(a.open()).isEmpty();
        assertThat(a.load()).as("passed over as often as allowed: its turn, loading").containsExactly(cold);
        assertThat(core.active()).isOne();
        assertThat(core.admit(101, ready).open()).as("the loading job holds the only place").isEmpty();

        Effects e = deliver(core.abort(cold, new IllegalStateException("adapter unreadable"), 102));
        assertThat(e.freed()).containsExactly(cold);
        assertThat(heard(cold)).containsExactly("error IllegalStateException");
        assertThatThrownBy(() -> core.abort(cold, null, 103)).as("a job ends once").isInstanceOf(IllegalStateException.class);
        assertThat(core.admit(104, ready).open()).containsExactly(next);
    }

    @Test
    void stoppingFailsRunningAndWaitingJobs() {
        Two two = oneRunsOneWaits(3, 5);
        Effects e = deliver(core.abortAll(new UnavailableException("the server stopped"), 1));
        assertThat(e.freed()).containsExactly(two.running());
        assertThat(heard(two.running())).containsExactly("error UnavailableException");
        assertThat(heard(two.waiting())).containsExactly("error UnavailableException");
        assertThat(core.active()).isZero();
        assertThat(core.queued()).isZero();
    }

    @Test
    void aJobMovesOnlyAlongItsLife() {
        start(1, 1, null);
        Job j = job("a", 3, 1, 0);
        assertThatThrownBy(() -> j.moveTo(JobState.RUNNING)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("WAITING cannot become RUNNING");
        j.moveTo(JobState.ADMITTED);
        j.moveTo(JobState.RUNNING);
        j.moveTo(JobState.FINISHED);
        for (JobState s : JobState.values()) {
            assertThat(j.state().canBecome(s)).isFalse();
        }
    }
}
