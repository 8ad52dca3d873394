package io.tessera.scheduler;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * The scheduler's decisions, plain Java on the engine thread: which waiting requests join the batch, how many
 * tokens each running sequence feeds in the next step, and what a step's result means for each request. It never
 * touches the engine, a thread or a clock: the shell ({@link Scheduler}) passes the time in, carries the plans out
 * on the engine and hands the listener calls over. As in vLLM's scheduler, {@link #schedule()} returns a step plan
 * and {@link #update} applies what the engine made of it; tests drive it step by step.
 *
 * <p>Only {@link #reserve}, {@link #unreserve}, {@link #enqueue}, {@link #queued} and {@link #noteCancel} may be
 * called from other threads.
 */
final class SchedulerCore {
    private static final System.Logger LOG = System.getLogger(SchedulerCore.class.getName());

    /**
     * How many times a waiting request whose adapter is not resident may be passed over by later ones whose adapter
     * is (or that need none) before it is admitted anyway, to wait for its adapter holding a running place: the
     * preference for resident adapters never starves a request.
     */
    static final int MAX_PASSED_OVER = 32;

    /**
     * Who to start after {@link #admit}: {@code open} get their sequence now (no adapter, or a resident one),
     * {@code load} once their adapter is resident (passed over {@link #MAX_PASSED_OVER} times); either way the
     * shell reports back with {@link #opened} or {@link #abort}.
     */
    record Admission(List<Job> open, List<Job> load, Effects effects) {
    }

    /** One engine step: the rows in the engine's input order. */
    record StepPlan(List<Row> rows) {
        static final StepPlan EMPTY = new StepPlan(List.of());

        int tokens() {
            return rows.stream().mapToInt(r -> r.tokens.length).sum();
        }
    }

    /**
     * One sequence's part of a step.
     *
     * @param completesPrompt the row feeds the prompt's last chunk: once it ran, the shell keeps the prompt in the
     *                        prefix cache (a failure there fails the row)
     */
    record Row(Job job, int[] tokens, boolean completesPrompt) {
    }

    /** What the engine made of a plan, per row: the logits of its last position, or the error it failed with alone. */
    record StepResult(float[][] logits, RuntimeException[] errors) {
        int succeeded() {
            int ok = 0;
            for (RuntimeException e : errors) {
                ok += e == null ? 1 : 0;
            }
            return ok;
        }
    }

    /**
     * What the shell carries out after a call: release the sequences of {@code freed} (those that have one), and
     * hand {@code calls} to the delivery thread, in order.
     */
    record Effects(List<Job> freed, List<Runnable> calls) {
        Effects() {
            this(new ArrayList<>(), new ArrayList<>());
        }
    }

    private final SchedulerOptions options;
    private final SchedulerObserver observer;
    private final FairQueue<Job> waiting = new FairQueue<>();
    /** Queue places held: requests waiting, and requests being tokenized that will wait. */
    private final AtomicInteger places = new AtomicInteger();
    private final List<Job> running = new ArrayList<>();
    /** Admitted sequences (admitted or running) per tenant. */
    private final Map<String, Integer> perTenant = new HashMap<>();
    private volatile boolean cancellations;
    /** Jobs admitted that do not run yet. */
    private int admitted;
    private long turn;
    /** The step at which new sequences last joined. */
    private long joinedAt;

    SchedulerCore(SchedulerOptions options, SchedulerObserver observer) {
        this.options = options;
        this.observer = observer;
    }

    /** Holds a queue place; false when every place is taken. */
    boolean reserve() {
        if (places.incrementAndGet() > options.maxQueued()) {
            places.decrementAndGet();
            return false;
        }
        return true;
    }

    /** Gives back a place that no job took. */
    void unreserve() {
        places.decrementAndGet();
    }

    /** Queues a job into a place {@link #reserve} held. */
    void enqueue(Job job) {
        waiting.add(job.request.tenant(), job);
    }

    /** A job was cancelled: the next {@link #admit} looks for it in the queue too. */
    void noteCancel() {
        cancellations = true;
    }

    int queued() {
        return places.get();
    }

    /** Sequences running or admitted (adapter loading). */
    int active() {
        return running.size() + admitted;
    }

    List<Job> running() {
        return Collections.unmodifiableList(running);
    }

    /**
     * Ends the cancelled and expired jobs, then admits waiting ones, tenants taking turns, each tenant below its
     * share. New sequences join when the batch is empty, when {@code joinInterval} steps have passed since the last
     * join, or when at least {@code joinInterval} of them can join at once: then the step their prompts pad is
     * shared widely enough to be worth it now.
     *
     * <p>A request whose adapter is not {@code ready} (resident in the engine) keeps waiting in the queue, holding
     * no running place nor KV slot while its adapter loads, and later requests that are ready go first, up to
     * {@link #MAX_PASSED_OVER} times.
     */
    Admission admit(long now, Predicate<Job> ready) {
        Effects effects = new Effects();
        dropEnded(now, effects);
        List<Job> open = new ArrayList<>();
        List<Job> load = new ArrayList<>();
        int free = options.maxRunning() - active();
        boolean due = running.isEmpty() || turn - joinedAt >= options.joinInterval()
                || Math.min(free, waiting.size()) >= options.joinInterval();
        if (due) {
            joinedAt = turn;
            while (active() < options.maxRunning()) {
                // a tenant at its share waits, whoever else waits behind it: the other slots stay open to other tenants
                Job job = waiting.poll(t -> perTenant.getOrDefault(t, 0) < options.maxRunningPerTenant(),
                        j -> j.cancelled() || j.passedOver >= MAX_PASSED_OVER || ready.test(j), j -> j.passedOver++);
                if (job == null) {
                    break;
                }
                places.decrementAndGet();
                if (job.cancelled()) {
                    end(job, JobState.ABORTED, Outcome.CANCELLED, now, effects);
                    continue;
                }
                job.moveTo(JobState.ADMITTED);
                admitted++;
                perTenant.merge(job.request.tenant(), 1, Integer::sum);
                (job.passedOver < MAX_PASSED_OVER || job.request.adapter() == null ? open : load).add(job);
            }
        }
        return new Admission(open, load, effects);
    }

    private void dropEnded(long now, Effects effects) {
        boolean timeouts = options.requestTimeout() != null;
        RequestTimeoutException timeout = timeouts ? new RequestTimeoutException(options.requestTimeout()) : null;
        Predicate<Job> drop = j -> {
            if (j.cancelled()) {
                abort(j, null, now, effects);
                return true;
            }
            if (timeouts && now - j.submitted - options.requestTimeout().toNanos() > 0) {
                abort(j, timeout, now, effects);
                return true;
            }
            return false;
        };
        if (cancellations || timeouts) {
            cancellations = false;
            places.addAndGet(-waiting.removeIf(drop));
        }
        running.removeIf(drop);
    }

    /**
     * The shell opened the admitted job's sequence; it runs from the next plan on.
     *
     * @param cached        prompt tokens the prefix cache gave
     * @param virtualTokens tokens the engine adds to its first step
     */
    void opened(Job job, int cached, int virtualTokens) {
        job.moveTo(JobState.RUNNING);
        admitted--;
        job.fed = cached;
        job.cached = cached;
        job.virtualTokens = virtualTokens;
        running.add(job);
    }

    /** Ends a job that is not running (its adapter or its sequence failed, or it was cancelled while loading). */
    Effects abort(Job job, Throwable error, long now) {
        Effects effects = new Effects();
        abort(job, error, now, effects);
        return effects;
    }

    /** How many tokens each running sequence feeds in the next step; empty when nothing runs. */
    StepPlan schedule() {
        if (running.isEmpty()) {
            return StepPlan.EMPTY;
        }
        List<StepPlanner.Entry> entries = new ArrayList<>(running.size());
        for (Job j : running) {
            entries.add(j.entry());
        }
        int[] plan = StepPlanner.plan(entries, options.maxTokensPerStep(), options.prefillChunk(), turn++);
        List<Row> rows = new ArrayList<>(running.size());
        for (int i = 0; i < plan.length; i++) {
            if (plan[i] > 0) {
                Job j = running.get(i);
                rows.add(new Row(j, j.tokens(plan[i]), j.prefilling() && j.fed + plan[i] == j.request.prompt().length));
            }
        }
        return new StepPlan(rows);
    }

    /**
     * Applies a step's result: a row that failed ends its request alone; the others bill what they used and, past
     * their prompt, sample their next token, finishing when it ends the sequence. Ended jobs leave the batch, their
     * slots free for the next {@link #admit}.
     */
    Effects update(StepPlan plan, StepResult result, long now) {
        Effects effects = new Effects();
        if (result.succeeded() > 0) {
            observer.stepped(result.succeeded(), plan.tokens());
        }
        for (int k = 0; k < plan.rows().size(); k++) {
            Row row = plan.rows().get(k);
            if (result.errors()[k] != null) {
                abort(row.job(), result.errors()[k], now, effects);
                continue;
            }
            try {
                advance(row, result.logits()[k], now, effects);
            } catch (RuntimeException e) {
                // sampling can fail for one request too: it fails alone
                LOG.log(System.Logger.Level.WARNING, "a sequence failed after its step; failing its request", e);
                abort(row.job(), e, now, effects);
            }
        }
        running.removeIf(j -> j.state().ended());
        return effects;
    }

    private void advance(Row row, float[] logits, long now, Effects effects) {
        Job job = row.job();
        job.virtualTokens = 0;
        if (job.prefilling()) {
            job.fed += row.tokens().length;
            if (job.prefilling()) {
                bill(job, effects);
                return;   // mid-prompt: these logits predict a token the prompt already has
            }
        }
        Generation.Token t = job.decoding.next(logits);
        if (job.decoding.generated() == 1) {
            observer.firstToken(job.request, now - job.submitted);
        } else {
            observer.interToken(job.request, now - job.lastToken);
        }
        job.lastToken = now;
        job.next = t.id();
        bill(job, effects);
        effects.calls().add(job.guarded(() -> job.listener.onToken(t)));
        if (t.finish() == null) {
            return;
        }
        end(job, JobState.FINISHED, Outcome.of(t.finish()), now, effects);
        GenerationListener.Finished finished = new GenerationListener.Finished(t.finish(), job.decoding.matchedStop(),
                job.request.prompt().length, job.decoding.generated(), job.cached);
        effects.calls().add(job.guarded(() -> job.listener.onFinish(finished)));
    }

    /** Tells the listener what the last step consumed: the prompt tokens fed, the token generated. */
    private static void bill(Job job, Effects effects) {
        int prompt = job.fed - job.billedPrompt;
        int generated = job.decoding.generated() - job.billedGenerated;
        if (prompt > 0 || generated > 0) {
            job.billedPrompt += prompt;
            job.billedGenerated += generated;
            effects.calls().add(job.guarded(() -> job.listener.onUsage(prompt, generated)));
        }
    }

    /** Fails every running job (the loop itself failed); they leave the batch. */
    Effects abortRunning(Throwable error, long now) {
        Effects effects = new Effects();
        for (Job j : running) {
            if (!j.state().ended()) {
                abort(j, error, now, effects);
            }
        }
        running.clear();
        return effects;
    }

    /** Fails every running and waiting job: the scheduler stops. */
    Effects abortAll(Throwable error, long now) {
        Effects effects = abortRunning(error, now);
        for (Job j = waiting.poll(); j != null; j = waiting.poll()) {
            places.decrementAndGet();
            abort(j, error, now, effects);
        }
        return effects;
    }

    /** A cancel (no error) ends silently; a timeout or an error is told to the listener. */
    private void abort(Job job, Throwable error, long now, Effects effects) {
        Outcome outcome = error == null ? Outcome.CANCELLED
                : error instanceof RequestTimeoutException ? Outcome.TIMEOUT : Outcome.ERROR;
        end(job, JobState.ABORTED, outcome, now, effects);
        if (error != null) {
            effects.calls().add(job.guarded(() -> job.listener.onError(error)));
        }
    }

    private void end(Job job, JobState to, Outcome outcome, long now, Effects effects) {
        JobState from = job.moveTo(to);
        if (from == JobState.ADMITTED) {
            admitted--;
        }
        if (from == JobState.ADMITTED || from == JobState.RUNNING) {
            perTenant.computeIfPresent(job.request.tenant(), (t, n) -> n == 1 ? null : n - 1);
            effects.freed().add(job);
        }
        observer.ended(job.request, outcome, now - job.submitted, job.request.prompt().length, job.cached,
                job.decoding.generated());
    }
}
