package io.tessera.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.tessera.config.TesseraConfig;
import io.tessera.engine.Engine;
import io.tessera.engine.adapter.AdapterTable;
import io.tessera.scheduler.GenerationRequest;
import io.tessera.scheduler.Outcome;
import io.tessera.scheduler.Scheduler;
import io.tessera.scheduler.SchedulerObserver;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The service's metrics (Prometheus at /q/metrics). Per-request meters carry {@code model} (the base model) and
 * {@code adapter} ("none", an adapter's name, or "other" past {@code tessera.metrics.max-adapter-labels}), so
 * the number of series stays bounded whatever clients send.
 */
@ApplicationScoped
public class ServiceMetrics implements SchedulerObserver {
    static final String NO_ADAPTER = "none";
    static final String OTHER = "other";

    /** Histogram bucket bounds (README.md, "Metrics and health"): few, so that series × adapters stay cheap. */
    static final Duration[] TTFT_BUCKETS = seconds(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30);
    static final Duration[] INTER_TOKEN_BUCKETS = seconds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1);
    static final Duration[] DURATION_BUCKETS = seconds(0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300);
    static final Duration[] ADAPTER_LOAD_BUCKETS = seconds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10);

    @Inject
    MeterRegistry registry;

    @Inject
    TesseraConfig config;

    /** Meters of one (model, adapter) label pair, looked up once per label rather than per token. */
    private record Meters(Timer ttft, Timer interToken, Timer e2e, Counter promptTokens, Counter cachedTokens,
                          Counter generatedTokens, Tags tags) {
    }

    /** Adapter name to its meters. */
    private final Map<String, Meters> byAdapter = new ConcurrentHashMap<>();
    /** Label to its meters; guarded by this. */
    private final Map<String, Meters> byLabel = new HashMap<>();
    private DistributionSummary batchSize;
    private final TokenRate generated = new TokenRate();
    private volatile String model = "unknown";

    /** Starts the gauges over a running scheduler. */
    void bind(Scheduler s) {
        model = s.host().name();
        Tags m = Tags.of("model", model);
        gauge("tessera.queue.depth", "Requests waiting for a place in the batch", m, s, Scheduler::queued);
        gauge("tessera.running.sequences", "Sequences running (KV slot held, or admitted after being passed over and waiting for its adapter)", m, s, Scheduler::running);
        gauge("tessera.kv.bytes.in.use", "KV cache bytes held by running sequences", m, s, Scheduler::kvBytesInUse);
        gauge("tessera.prefix.cache.bytes", "KV bytes of cached prompt prefixes", m, s.host().engine(), Engine::prefixCacheBytes);
        batchSize = DistributionSummary.builder("tessera.batch.size").description("Sequences per engine step")
                .tags(m).register(registry);
        AdapterTable t = s.host().adapters();
        adapterCounter("tessera.adapter.loads", "Adapter loads into the engine", m, t, st -> st.loads());
        adapterCounter("tessera.adapter.hits", "Adapter requests that found their adapter resident in the engine", m, t, st -> st.hits());
        adapterCounter("tessera.adapter.misses", "Adapter requests that waited for their adapter to load into the engine", m, t,
                st -> st.misses());
        adapterCounter("tessera.adapter.evictions", "Adapters evicted from the engine", m, t, st -> st.evictions());
        adapterCounter("tessera.adapter.load.failures", "Adapter loads refused", m, t, st -> st.failures());
        gauge("tessera.adapter.resident.bytes", "Engine bytes of resident adapters (their rank bucket's slots)", m, t, x -> x.stats().residentBytes());
        gauge("tessera.adapter.over.budget.bytes", "Resident adapter bytes above the budget, kept because pinned or in use", m, t,
                x -> x.stats().overBudgetBytes());
        Timer loads = Timer.builder("tessera.adapter.load.duration")
                .description("From an adapter's first request to its install in the engine (fetch, checks, conversion, wait)")
                .tags(m).serviceLevelObjectives(ADAPTER_LOAD_BUCKETS).register(registry);
        t.onLoaded(nanos -> loads.record(nanos, TimeUnit.NANOSECONDS));
    }

    private <T> void gauge(String name, String help, Tags tags, T obj, ToDoubleFunction<T> f) {
        Gauge.builder(name, obj, f).description(help).tags(tags).register(registry);
    }

    private void adapterCounter(String name, String help, Tags tags, AdapterTable t, ToDoubleFunction<AdapterTable.Stats> f) {
        FunctionCounter.builder(name, t, x -> f.applyAsDouble(x.stats())).description(help).tags(tags).register(registry);
    }

    @Override
    public void firstToken(GenerationRequest r, long nanos) {
        meters(r).ttft().record(nanos, TimeUnit.NANOSECONDS);
        generated.add(System.currentTimeMillis(), 1);
    }

    @Override
    public void interToken(GenerationRequest r, long nanos) {
        meters(r).interToken().record(nanos, TimeUnit.NANOSECONDS);
        generated.add(System.currentTimeMillis(), 1);
    }

    /** Tokens generated per second, all requests together, over the last {@value TokenRate#SECONDS} seconds. */
    public double tokensPerSecond() {
        return generated.perSecond(System.currentTimeMillis());
    }

    @Override
    public void ended(GenerationRequest r, Outcome outcome, long nanos, int promptTokens, int cachedTokens, int generatedTokens) {
        Meters m = meters(r);
        m.e2e().record(nanos, TimeUnit.NANOSECONDS);
        m.promptTokens().increment(promptTokens);
        m.cachedTokens().increment(cachedTokens);
        m.generatedTokens().increment(generatedTokens);
        requests(m.tags(), outcome.label());
    }

    @Override
    public void stepped(int sequences, int tokens) {
        batchSize.record(sequences);
    }

    /** A request refused before it reached the scheduler (the error type is the outcome). */
    public void rejected(String type) {
        requests(Tags.of("model", model, "adapter", NO_ADAPTER), type);
    }

    private void requests(Tags tags, String outcome) {
        Counter.builder("tessera.requests").description("Finished inference requests by outcome")
                .tags(tags.and("outcome", outcome)).register(registry).increment();
    }

    private Meters meters(GenerationRequest r) {
        String adapter = r.adapter() == null ? NO_ADAPTER : r.adapter().name();
        Meters m = byAdapter.get(adapter);
        return m != null ? m : assign(adapter);
    }

    private synchronized Meters assign(String adapter) {
        Meters m = byAdapter.get(adapter);
        if (m == null) {
            // its own label while there is room (the base model's "none" always has one), else the shared "other"
            boolean room = byLabel.size() < config.metrics().maxAdapterLabels() + 1;
            String label = adapter.equals(NO_ADAPTER) || room ? adapter : OTHER;
            m = byLabel.computeIfAbsent(label, this::create);
            byAdapter.put(adapter, m);
        }
        return m;
    }

    private Meters create(String adapter) {
        Tags tags = Tags.of("model", model, "adapter", adapter);
        return new Meters(
                latency("tessera.time.to.first.token", "From request to its first token", tags, TTFT_BUCKETS),
                latency("tessera.inter.token.latency", "Between two tokens of a stream", tags, INTER_TOKEN_BUCKETS),
                latency("tessera.request.duration", "From request to its last token", tags, DURATION_BUCKETS),
                Counter.builder("tessera.prompt.tokens").description("Prompt tokens of requests").tags(tags).register(registry),
                Counter.builder("tessera.prompt.cached.tokens").description("Prompt tokens served from the prefix cache")
                        .tags(tags).register(registry),
                Counter.builder("tessera.generated.tokens").description("Tokens generated").tags(tags).register(registry),
                tags);
    }

    private Timer latency(String name, String help, Tags tags, Duration[] buckets) {
        return Timer.builder(name).description(help).tags(tags).serviceLevelObjectives(buckets).register(registry);
    }

    private static Duration[] seconds(double... bounds) {
        Duration[] out = new Duration[bounds.length];
        for (int i = 0; i < bounds.length; i++) {
            out[i] = Duration.ofNanos(Math.round(bounds[i] * 1e9));
        }
        return out;
    }
}
