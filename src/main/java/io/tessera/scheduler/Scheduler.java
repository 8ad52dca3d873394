package io.tessera.scheduler;

import io.tessera.adapters.AdapterRef;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.Engine;
import io.tessera.engine.Sequence;
import io.tessera.engine.StepInput;
import io.tessera.engine.ResidentAdapter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/**
 * The engine loop: continuous batching over one engine. Sequences join and leave between steps; prompts are fed in
 * chunks next to running decodes ({@link StepPlanner}); waiting requests are admitted tenants taking turns
 * ({@link FairQueue}); a request whose adapter is loading holds a place while others run. Only the loop's thread
 * touches the engine; other threads submit, cancel and read counters. Listeners are called on one delivery thread,
 * in order per request, a whole step's output handed over at once: the loop never waits on a client.
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
    private final SchedulerObserver observer;
    private final FairQueue<Job> waiting = new FairQueue<>();
    /** Queue places held: requests waiting, and requests being tokenized that will wait. */
    private final AtomicInteger places = new AtomicInteger();
    private final Thread thread;
    private final ExecutorService delivery = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tessera-deliver");
        t.setDaemon(true);
        return t;
    });

    // engine thread only
    private final List<Job> running = new ArrayList<>();
    /** Opened when their adapter arrived (possibly during a step); they join the batch at the next step. */
    private final List<Job> joined = new ArrayList<>();
    /** Admitted sequences (running, joining or loading their adapter) per tenant. */
    private final Map<String, Integer> perTenant = new HashMap<>();
    /** Listener calls of this iteration, handed to the delivery thread together. */
    private List<Runnable> outbox = new ArrayList<>();
    private int loading;
    private long turn;
    /** The step at which new sequences last joined. */
    private long joinedAt;
    private int failedSteps;
    /** The token of the probe step; tests point it past the vocabulary to play an engine that fails every step. */
    int probeToken;

    private volatile boolean accepting = true;
    private volatile boolean closed;
    private volatile boolean cancellations;
    private volatile int active;
    private volatile long kvBytes;
    private volatile boolean engineBroken;

    public Scheduler(ModelHost host, SchedulerOptions options, SchedulerObserver observer) {
        this.host = host;
        this.engine = host.engine();
        if (options.maxRunning() > engine.maxSequences()) {
            throw new IllegalArgumentException("max-running " + options.maxRunning() + " exceeds the engine's "
                    + engine.maxSequences() + " KV slots");
        }
        this.options = options;
        this.observer = observer;
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
        if (places.incrementAndGet() > options.maxQueued()) {
            places.decrementAndGet();
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
            Job job = new Job(request, listener, new Generation(request.prompt(), request.params(), host.tokenizer(),
                    host.eosIds(), engine.config().vocabSize()));
            used = true;
            waiting.add(request.tenant(), job);
            LockSupport.unpark(thread);
            return job;
        }

        @Override
        public void close() {
            if (!used) {
                places.decrementAndGet();
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
        return places.get();
    }

    /** Sequences holding a KV slot or waiting for their adapter. */
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
        while (places.get() > 0 || active > 0) {
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

    private void loop() {
        engine.adoptThreadSettings();
        while (!closed) {
            try {
                engine.runPending();
                running.addAll(joined);
                joined.clear();
                if (cancellations) {
                    cancellations = false;
                    dropCancelled();
                }
                if (options.requestTimeout() != null) {
                    dropExpired();
                }
                admit();
                publish();
                if (running.isEmpty()) {
                    LockSupport.parkNanos(loading > 0 || engine.hasPending() ? LOADING_PARK : IDLE_PARK);
                } else {
                    step();
                }
            } catch (RuntimeException | Error e) {
                engineFailed("the engine loop failed; failing the running requests", e);
                running.forEach(j -> j.fail(e));
                running.clear();
            }
            deliver();
        }
        UnavailableException stopped = new UnavailableException("the server stopped");
        running.forEach(j -> j.fail(stopped));
        joined.forEach(j -> j.fail(stopped));
        for (Job j = waiting.poll(); j != null; j = waiting.poll()) {
            places.decrementAndGet();
            j.fail(stopped);
        }
        running.clear();
        publish();
        deliver();
        delivery.shutdown();
    }

    private void deliver() {
        if (!outbox.isEmpty()) {
            List<Runnable> calls = outbox;
            outbox = new ArrayList<>(calls.size());
            delivery.execute(() -> calls.forEach(Runnable::run));
        }
    }

    private void dropCancelled() {
        places.addAndGet(-waiting.removeIf(j -> {
            if (j.cancelled) {
                j.end(Outcome.CANCELLED);
            }
            return j.cancelled;
        }));
        running.removeIf(j -> {
            if (j.cancelled) {
                engine.release(j.seq);
                j.end(Outcome.CANCELLED);
            }
            return j.cancelled;
        });
    }

    /** Requests past their deadline, waiting or running, end with an error; their slots are freed. */
    private void dropExpired() {
        long now = System.nanoTime();
        RequestTimeoutException timeout = new RequestTimeoutException(options.requestTimeout());
        Predicate<Job> expired = j -> {
            if (j.expired(now)) {
                j.fail(timeout);
                return true;
            }
            return false;
        };
        places.addAndGet(-waiting.removeIf(expired));
        running.removeIf(expired);
    }

    /**
     * New sequences join when the batch is empty, when {@code joinInterval} steps have passed since the last join,
     * or when at least {@code joinInterval} of them can join at once: then the step their prompts pad is shared
     * widely enough to be worth it now.
     */
    private void admit() {
        int free = options.maxRunning() - (running.size() + joined.size() + loading);
        boolean due = running.isEmpty() || turn - joinedAt >= options.joinInterval()
                || Math.min(free, waiting.size()) >= options.joinInterval();
        if (!due) {
            return;
        }
        joinedAt = turn;
        while (running.size() + joined.size() + loading < options.maxRunning()) {
            // a tenant at its share waits, whoever else waits behind it: the other slots stay open to other tenants
            Job job = waiting.poll(t -> perTenant.getOrDefault(t, 0) < options.maxRunningPerTenant());
            if (job == null) {
                return;
            }
            places.decrementAndGet();
            if (job.cancelled) {
                job.end(Outcome.CANCELLED);
                continue;
            }
            job.admitted = true;
            perTenant.merge(job.request.tenant(), 1, Integer::sum);
            AdapterRef adapter = job.request.adapter();
            if (adapter == null) {
                if (opened(job, null)) {
                    running.add(job);
                }
                continue;
            }
            loading++;
            // completes on this thread, maybe inside a step: the job joins the batch at the next one
            host.adapters().acquire(adapter.key(), adapter.dir()).whenComplete((resident, error) -> {
                loading--;
                if (error != null) {
                    job.fail(error instanceof CompletionException c && c.getCause() != null ? c.getCause() : error);
                } else if (job.cancelled) {
                    job.end(Outcome.CANCELLED);
                } else if (opened(job, resident)) {
                    joined.add(job);
                }
            });
        }
    }

    /** Opens the job's sequence (taking what the prefix cache has for it); a failure fails this job alone. */
    private static boolean opened(Job job, ResidentAdapter adapter) {
        try {
            job.open(adapter);
            return true;
        } catch (RuntimeException e) {
            job.fail(e);
            return false;
        }
    }

    private void step() {
        List<StepPlanner.Entry> entries = new ArrayList<>(running.size());
        for (Job j : running) {
            entries.add(j.entry());
        }
        int[] plan = StepPlanner.plan(entries, options.maxTokensPerStep(), options.prefillChunk(), turn++);
        List<StepInput> inputs = new ArrayList<>(running.size());
        List<Job> stepped = new ArrayList<>(running.size());
        int tokens = 0;
        for (int i = 0; i < plan.length; i++) {
            if (plan[i] > 0) {
                Job j = running.get(i);
                inputs.add(j.input(plan[i]));
                stepped.add(j);
                tokens += plan[i];
            }
        }
        float[][] logits = new float[inputs.size()][];
        RuntimeException[] errors = new RuntimeException[inputs.size()];
        stepIsolating(inputs, 0, inputs.size(), logits, errors);
        int ok = 0;
        RuntimeException error = null;
        for (RuntimeException e : errors) {
            if (e == null) {
                ok++;
            } else {
                error = e;
            }
        }
        if (ok > 0) {
            observer.stepped(ok, tokens);
        }
        for (int k = 0; k < stepped.size(); k++) {
            if (errors[k] == null) {
                advance(stepped.get(k), logits[k]);
            } else {
                stepped.get(k).fail(errors[k]);
            }
        }
        if (error == null || ok > 0 || engineWorks()) {
            failedSteps = 0;
            engineBroken = false;
            if (error != null) {
                LOG.log(System.Logger.Level.WARNING, (stepped.size() - ok) + " of " + stepped.size()
                        + " sequences failed their step alone; failing their requests, the others go on", error);
            }
        } else {
            engineFailed("an engine step failed for every input, and so did a probe step", error);
        }
        running.removeIf(j -> j.seq.released());
    }

    /** Sampling and the prefix cache can fail for one request too: it fails alone. */
    private static void advance(Job job, float[] logits) {
        try {
            job.advance(logits);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "a sequence failed after its step; failing its request", e);
            job.fail(e);
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
        for (Job j : running) {
            kv += engine.kvBytes(j.seq);
        }
        kvBytes = kv;
        active = running.size() + joined.size() + loading;
    }

    /** One request from submission to its end. Fields other than {@code cancelled} belong to the engine thread. */
    private final class Job implements Handle {
        final GenerationRequest request;
        final GenerationListener listener;
        final Generation generation;
        final long submitted = System.nanoTime();
        final long deadline = options.requestTimeout() == null ? Long.MAX_VALUE : submitted + options.requestTimeout().toNanos();
        volatile boolean cancelled;
        Sequence seq;
        int fed;
        int cached;
        int next;
        long lastToken;
        boolean over;
        /** Counted in {@link #perTenant} until it ends. */
        boolean admitted;
        /** Tokens already reported to the listener's {@code onUsage}. */
        int billedPrompt;
        int billedGenerated;

        Job(GenerationRequest request, GenerationListener listener, Generation generation) {
            this.request = request;
            this.listener = listener;
            this.generation = generation;
        }

        boolean expired(long now) {
            return now - deadline > 0;
        }

        @Override
        public void cancel() {
            cancelled = true;
            cancellations = true;
            LockSupport.unpark(thread);
        }

        void open(ResidentAdapter adapter) {
            seq = engine.open(request.attention(), adapter);
            fed = engine.reusePrefix(seq, request.tenant(), request.prompt());
            cached = fed;
        }

        StepPlanner.Entry entry() {
            int[] prompt = request.prompt();
            return new StepPlanner.Entry(request.tenant(), prompt.length - fed, seq.length() == 0 ? seq.virtualTokens() : 0);
        }

        StepInput input(int n) {
            if (fed < request.prompt().length) {
                int from = fed;
                fed += n;
                return StepInput.next(seq, Arrays.copyOfRange(request.prompt(), from, fed));
            }
            return StepInput.next(seq, next);
        }

        /** Takes the logits of this job's last fed position; at an end, releases its sequence. */
        void advance(float[] logits) {
            if (fed < request.prompt().length) {
                bill();
                return;   // mid-prompt: these logits predict a token the prompt already has
            }
            if (generation.generated() == 0) {
                engine.rememberPrefix(seq, request.tenant(), request.prompt());
            }
            Generation.Token t = generation.next(logits);
            long now = System.nanoTime();
            if (lastToken == 0) {
                observer.firstToken(request, now - submitted);
            } else {
                observer.interToken(request, now - lastToken);
            }
            lastToken = now;
            next = t.id();
            bill();
            notify(() -> listener.onToken(t));
            if (t.finish() == null) {
                return;
            }
            engine.release(seq);
            end(Outcome.of(t.finish()));
            notify(() -> listener.onFinish(new GenerationListener.Finished(t.finish(), generation.matchedStop(),
                    request.prompt().length, generation.generated(), cached)));
        }

        /** Tells the listener what the last step consumed: the prompt tokens fed, the token generated. */
        private void bill() {
            int prompt = Math.min(fed, request.prompt().length) - billedPrompt;
            int generated = generation.generated() - billedGenerated;
            if (prompt > 0 || generated > 0) {
                billedPrompt += prompt;
                billedGenerated += generated;
                notify(() -> listener.onUsage(prompt, generated));
            }
        }

        void fail(Throwable error) {
            if (seq != null) {
                engine.release(seq);
            }
            end(error instanceof RequestTimeoutException ? Outcome.TIMEOUT : Outcome.ERROR);
            notify(() -> listener.onError(error));
        }

        /** Reports the end once, whatever path got here. */
        void end(Outcome outcome) {
            if (!over) {
                over = true;
                if (admitted) {
                    perTenant.computeIfPresent(request.tenant(), (t, n) -> n == 1 ? null : n - 1);
                }
                observer.ended(request, outcome, System.nanoTime() - submitted, request.prompt().length, cached,
                        generation.generated());
            }
        }

        /** Queues a listener call for the delivery thread; a listener that fails cancels its request. */
        private void notify(Runnable call) {
            outbox.add(() -> {
                try {
                    call.run();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "listener failed; cancelling its request", e);
                    cancel();
                }
            });
        }
    }
}
