package io.tessera.scheduler;

import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.Engine;
import io.tessera.engine.ResidentAdapter;
import io.tessera.engine.Sequence;
import io.tessera.engine.StepInput;
import io.tessera.engine.structured.Constraint;
import io.tessera.engine.structured.TokenVocabulary;
import io.tessera.runtime.AdapterRef;
import io.tessera.runtime.ModelHost;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * The engine loop: continuous batching over one engine. A thin shell around {@link SchedulerCore}, which decides
 * who joins, what each step feeds and what its result means; this class owns the thread, the engine and the
 * clock. Sequences join and leave between steps; prompts are fed in chunks next to running decodes
 * ({@link StepPlanner}); waiting requests are admitted tenants taking turns ({@link FairQueue}); a request's
 * adapter starts loading when it is queued, and the request waits there, holding neither a running place nor a KV
 * slot, while others run. Only the loop's thread touches the engine and the core's batch; other threads submit, cancel and read counters. Listeners are called on one delivery thread, in order
 * per request, a whole iteration's output handed over at once: the loop never waits on a client.
 */
public final class Scheduler implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Scheduler.class.getName());
    private static final long IDLE_PARK = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long LOADING_PARK = TimeUnit.MILLISECONDS.toNanos(1);
    /**
     * Engine steps failing one after another, not for a bad request but for the engine (every input failed even
     * alone, and so did a plain probe step): the engine is taken for broken (liveness down, the pod restarts).
     */
    static final int BROKEN_AFTER_FAILED_STEPS = 3;

    private final ModelHost host;
    private final Engine engine;
    private final SchedulerOptions options;
    private final SchedulerCore core;
    /** Nanoseconds, for deadlines and latencies; tests pass their own. */
    private final LongSupplier clock;
    private final Thread thread;
    private final ExecutorService delivery = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tessera-deliver");
        t.setDaemon(true);
        return t;
    });

    // engine thread only
    /** Listener calls of this iteration, handed to the delivery thread together. */
    private List<Runnable> outbox = new ArrayList<>();
    private int failedSteps;
    /** The token of the probe step; tests point it past the vocabulary to play an engine that fails every step. */
    int probeToken;

    private volatile boolean accepting = true;
    private volatile boolean closed;
    private volatile int active;
    private volatile long kvBytes;
    private volatile boolean engineBroken;

    public Scheduler(ModelHost host, SchedulerOptions options, SchedulerObserver observer) {
        this(host, options, observer, System::nanoTime);
    }

    Scheduler(ModelHost host, SchedulerOptions options, SchedulerObserver observer, LongSupplier clock) {
        this.host = host;
        this.engine = host.engine();
        if (options.maxRunning() > engine.maxSequences()) {
            throw new IllegalArgumentException("max-running " + options.maxRunning() + " exceeds the engine's "
                    + engine.maxSequences() + " KV slots");
        }
        this.options = options;
        this.core = new SchedulerCore(options, observer);
        this.clock = clock;
        this.thread = new Thread(this::loop, "tessera-engine");
        thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    public ModelHost host() {
        return host;
    }

    /** The most tokens one request may generate. */
    public int maxNewTokens() {
        return options.maxNewTokens();
    }

    /**
     * Holds a queue place for a request about to be tokenized, so that a full queue is refused before that work.
     *
     * @throws QueueFullException   when every place is taken
     * @throws UnavailableException when the scheduler is draining or closed
     */
    public Place reserve() {
        if (!accepting) {
            throw new UnavailableException("the server is shutting down");
        }
        if (!core.reserve()) {
            throw new QueueFullException(options.maxQueued());
        }
        return new Place();
    }

    /** A held queue place: submit a request into it, or close it to give it back. */
    public final class Place implements AutoCloseable {
        private boolean used;

        private Place() {
        }

        /**
         * Queues the request. Checks what only the model knows: the context under full attention and the KV room
         * LM-Infinite needs.
         */
        public Handle submit(GenerationRequest request, GenerationListener listener) {
            if (used) {
                throw new IllegalStateException("place already used");
            }
            checkFits(request);
            if (!accepting) {
                throw new UnavailableException("the server is shutting down");
            }
            Constraint constraint = request.output() == null ? null
                    : new Constraint(TokenVocabulary.of(host.tokenizer()).grammar(request.output()));
            Job job = new Job(request, listener, new Generation(request.prompt(), request.params(), host.tokenizer(),
                    host.eosIds(), engine.config().vocabSize(), constraint), clock.getAsLong(), Scheduler.this::cancelled);
            used = true;
            prefetch(job);
            core.enqueue(job);
            LockSupport.unpark(thread);
            return job;
        }

        @Override
        public void close() {
            if (!used) {
                core.unreserve();
            }
        }
    }

    private void checkFits(GenerationRequest r) {
        if (r.prompt().length == 0) {
            throw new InvalidRequestException("prompt", "the prompt must have at least one token");
        }
        if (r.prompt().length > options.maxPromptTokens()) {
            throw new InvalidRequestException("prompt", "the prompt has " + r.prompt().length + " tokens, more than this "
                    + "server's tessera.scheduler.max-prompt-tokens of " + options.maxPromptTokens());
        }
        if (r.params().maxTokens() > options.maxNewTokens()) {
            throw new InvalidRequestException("max_tokens", "max_tokens " + r.params().maxTokens()
                    + " exceeds this server's tessera.scheduler.max-new-tokens of " + options.maxNewTokens());
        }
        if (r.attention() instanceof AttentionPolicy.LmInfinite li) {
            if (li.cacheEntries() > engine.cacheCapacity()) {
                throw new InvalidRequestException("attention", "attention n_global + n_local = " + li.cacheEntries()
                        + " exceeds the KV room per sequence (" + engine.cacheCapacity() + ")");
            }
            return;
        }
        int virtual = r.adapter() == null ? 0 : r.adapter().virtualTokens();
        int prompt = r.prompt().length + virtual;
        if (prompt + r.params().maxTokens() > host.contextLimit()) {
            throw new ContextLengthException(host.contextLimit(), prompt, r.params().maxTokens());
        }
    }

    /** Lets a submitted request go: it stops within one step and frees its KV slot. */
    public interface Handle {
        void cancel();
    }

    /** Requests waiting for a place in the batch (and being tokenized). */
    public int queued() {
        return core.queued();
    }

    /** Sequences holding a KV slot, or admitted after being passed over to wait for their adapter. */
    public int running() {
        return active;
    }

    public long kvBytesInUse() {
        return kvBytes;
    }

    /**
     * False once {@value #BROKEN_AFTER_FAILED_STEPS} engine steps in a row have failed, or when the loop has died:
     * the process should be restarted. A step that succeeds again clears it.
     */
    public boolean healthy() {
        return !engineBroken && (closed || thread.isAlive() || thread.getState() == Thread.State.NEW);
    }

    /** Takes no new requests; what is queued or running goes on. */
    public void drain() {
        accepting = false;
    }

    /** Takes requests again after {@link #drain()}. */
    public void resume() {
        if (!closed) {
            accepting = true;
        }
    }

    public boolean accepting() {
        return accepting;
    }

    /** Waits until nothing is queued or running; false when the timeout came first. */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (core.queued() > 0 || active > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }

    /** Stops the loop now; whatever is queued or running fails as unavailable. */
    @Override
    public void close() {
        accepting = false;
        closed = true;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- the loop ----

    private void cancelled() {
        core.noteCancel();
        LockSupport.unpark(thread);
    }

    private void loop() {
        engine.adoptThreadSettings();
        while (!closed) {
            try {
                engine.runPending();
                SchedulerCore.Admission admission = core.admit(clock.getAsLong(), this::ready);
                carryOut(admission.effects());
                admission.open().forEach(this::openReady);
                admission.load().forEach(this::load);
                publish();
                SchedulerCore.StepPlan plan = core.schedule();
                if (plan.rows().isEmpty()) {
                    // requests waiting in the queue may be waiting for their adapter's install
                    boolean loading = core.active() > 0 || core.queued() > 0 || engine.hasPending();
                    LockSupport.parkNanos(loading ? LOADING_PARK : IDLE_PARK);
                } else {
                    step(plan);
                }
            } catch (RuntimeException | Error e) {
                engineFailed("the engine loop failed; failing the running requests", e);
                carryOut(core.abortRunning(e, clock.getAsLong()));
            }
            deliver();
        }
        carryOut(core.abortAll(new UnavailableException("the server stopped"), clock.getAsLong()));
        publish();
        deliver();
        delivery.shutdown();
    }

    /** Releases the sequences of ended jobs and queues their listener calls. */
    private void carryOut(SchedulerCore.Effects effects) {
        for (Job j : effects.freed()) {
            if (j.seq != null) {
                engine.release(j.seq);
            }
        }
        outbox.addAll(effects.calls());
    }

    private void deliver() {
        if (!outbox.isEmpty()) {
            List<Runnable> calls = outbox;
            outbox = new ArrayList<>(calls.size());
            delivery.execute(() -> calls.forEach(Runnable::run));
        }
    }

    /**
     * Starts loading the request's adapter as it enters the queue (fetched, checked and installed off the engine
     * loop's critical path), so it is resident by the time the request's turn comes.
     */
    private void prefetch(Job job) {
        AdapterRef adapter = job.request.adapter();
        if (adapter != null) {
            job.prefetch = host.adapters().acquire(adapter.key(), adapter.dir());
        }
    }

    /**
     * Engine thread: whether a waiting job may take a running place now: it needs no adapter, its adapter is
     * resident, or its prefetch failed (admitted, it fails with the load's error). An adapter evicted again before
     * the job's turn is prefetched again.
     */
    private boolean ready(Job job) {
        AdapterRef adapter = job.request.adapter();
        if (adapter == null || job.prefetch.isCompletedExceptionally() || host.adapters().resident(adapter.key()) != null) {
            return true;
        }
        if (job.prefetch.isDone()) {
            prefetch(job);
        }
        return false;
    }

    /** Opens a job {@link #ready} admitted, with its resident adapter; one whose adapter failed to load fails. */
    private void openReady(Job job) {
        AdapterRef adapter = job.request.adapter();
        if (adapter == null) {
            open(job, null);
        } else if (job.prefetch.isCompletedExceptionally()) {
            job.prefetch.whenComplete((r, error) -> carryOut(core.abort(job, cause(error), clock.getAsLong())));
        } else {
            ResidentAdapter resident = host.adapters().resident(adapter.key());
            if (resident != null) {
                open(job, resident);
            } else {
                load(job);   // never without its adapter, were it evicted since it was found ready
            }
        }
    }

    private static Throwable cause(Throwable error) {
        return error instanceof CompletionException c && c.getCause() != null ? c.getCause() : error;
    }

    /** Opens the job's sequence, taking what the prefix cache has for it; a failure fails this job alone. */
    private void open(Job job, ResidentAdapter adapter) {
        try {
            job.seq = engine.open(job.request.attention(), adapter, job.request.prompt().length);
            int cached = engine.reusePrefix(job.seq, job.request.tenant(), job.request.prompt());
            core.opened(job, cached, job.seq.length() == 0 ? job.seq.virtualTokens() : 0);
        } catch (RuntimeException e) {
            carryOut(core.abort(job, e, clock.getAsLong()));
        }
    }

    private void load(Job job) {
        AdapterRef adapter = job.request.adapter();
        // completes on this thread, maybe inside a step: the job joins the batch at the next one
        host.adapters().acquire(adapter.key(), adapter.dir()).whenComplete((resident, error) -> {
            if (error != null) {
                carryOut(core.abort(job, cause(error), clock.getAsLong()));
            } else if (job.cancelled()) {
                carryOut(core.abort(job, null, clock.getAsLong()));
            } else {
                open(job, resident);
            }
        });
    }

    private void step(SchedulerCore.StepPlan plan) {
        List<SchedulerCore.Row> rows = plan.rows();
        List<StepInput> inputs = new ArrayList<>(rows.size());
        for (SchedulerCore.Row r : rows) {
            inputs.add(StepInput.next(r.job().seq, r.tokens()));
        }
        float[][] logits = new float[rows.size()][];
        RuntimeException[] errors = new RuntimeException[rows.size()];
        stepIsolating(inputs, 0, inputs.size(), logits, errors);
        for (int k = 0; k < rows.size(); k++) {
            if (errors[k] == null && rows.get(k).completesPrompt()) {
                errors[k] = remember(rows.get(k).job());
            }
        }
        SchedulerCore.StepResult result = new SchedulerCore.StepResult(logits, errors);
        carryOut(core.update(plan, result, clock.getAsLong()));
        int ok = result.succeeded();
        RuntimeException error = Arrays.stream(errors).filter(Objects::nonNull).findFirst().orElse(null);
        if (error == null || ok > 0 || engineWorks()) {
            failedSteps = 0;
            engineBroken = false;
            if (error != null) {
                LOG.log(System.Logger.Level.WARNING, (rows.size() - ok) + " of " + rows.size()
                        + " sequences failed their step alone; failing their requests, the others go on", error);
            }
        } else {
            engineFailed("an engine step failed for every input, and so did a probe step", error);
        }
    }

    /** Keeps a prompt just stepped in full for the prefix cache; returns the error that fails its request, or null. */
    private RuntimeException remember(Job job) {
        try {
            engine.rememberPrefix(job.seq, job.request.tenant(), job.request.prompt());
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }

    /**
     * Runs inputs[from, to) as one engine step; when it throws, each half on its own, down to single inputs, so
     * that only the inputs that fail alone lose their step ({@code errors}) and the others get their logits. A
     * re-run is safe: the engine advances a sequence only after its step succeeded, and running the same tokens
     * again writes the same keys and values to the same positions. (What one row can get wrong, a token id past
     * the vocabulary or a plan the engine refuses, fails before any key is written; an LM-Infinite prefill chunk
     * caught by a failure half-way through the layers could read ring entries its first run overwrote.)
     */
    private void stepIsolating(List<StepInput> inputs, int from, int to, float[][] logits, RuntimeException[] errors) {
        try {
            List<float[]> out = engine.step(inputs.subList(from, to));
            for (int k = from; k < to; k++) {
                logits[k] = out.get(k - from);
            }
        } catch (RuntimeException e) {
            if (to - from == 1) {
                errors[from] = e;
                return;
            }
            int mid = (from + to) >>> 1;
            stepIsolating(inputs, from, mid, logits, errors);
            stepIsolating(inputs, mid, to, logits, errors);
        }
    }

    /**
     * Whether the engine still runs a plain step: one token of the base model under full attention, in a slot of
     * its own released at once. Asked when every input of a step failed even alone, to tell bad requests (which
     * must not move liveness) from a broken engine. A failed input has freed its slot, so one is free.
     */
    private boolean engineWorks() {
        Sequence probe = null;
        try {
            probe = engine.open(AttentionPolicy.FULL, null);
            engine.step(List.of(StepInput.next(probe, probeToken)));
            return true;
        } catch (RuntimeException e) {
            return false;   // the step's own error is logged
        } finally {
            if (probe != null) {
                engine.release(probe);
            }
        }
    }

    private void engineFailed(String what, Throwable e) {
        failedSteps++;
        engineBroken = failedSteps >= BROKEN_AFTER_FAILED_STEPS;
        LOG.log(System.Logger.Level.ERROR, what + " (" + failedSteps + " in a row)", e);
    }

    private void publish() {
        long kv = 0;
        for (Job j : core.running()) {
            kv += engine.kvBytes(j.seq);
        }
        kvBytes = kv;
        active = core.active();
    }
}
