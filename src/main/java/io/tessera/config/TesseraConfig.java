package io.tessera.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.tessera.engine.EngineOptions;
import io.tessera.scheduler.SchedulerOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.OptionalInt;

/** The service's settings ({@code tessera.*}); turned into plain records before they reach the engine. */
@ConfigMapping(prefix = "tessera")
public interface TesseraConfig {

    /** Directory of the base model ({@code config.json}, {@code model.safetensors}, {@code tokenizer.json}). */
    @WithDefault("models/demo-llama")
    Path model();

    /** {@code cpu}, {@code gpu} or {@code auto} (the GPU when one is visible). */
    @WithDefault("auto")
    String device();

    EngineSettings engine();

    Scheduler scheduler();

    Adapters adapters();

    Metrics metrics();

    Api api();

    interface Scheduler {
        /** Sequences running at once, also the engine's KV slots. */
        @WithDefault("64")
        int maxRunning();

        /** Tokens one engine step feeds, all sequences together. */
        @WithDefault("512")
        int maxTokensPerStep();

        /** Prompt tokens one sequence feeds per step. */
        @WithDefault("32")
        int prefillChunk();

        /** Requests waiting for a place; more get 429 {@code queue_full}. */
        @WithDefault("256")
        int maxQueued();

        /**
         * While sequences decode, waiting prompts join them every this many steps, or as soon as this many can join
         * together, whichever comes first (a prompt joins at once when nothing decodes).
         */
        @WithDefault("8")
        int joinInterval();

        /** {@code Retry-After} sent with 429. */
        @WithDefault("1s")
        Duration retryAfter();

        /**
         * Longest time from a request's arrival to its last token; past it the request ends with 504
         * {@code request_timeout} (an error event on a stream) and its KV slot is freed.
         */
        @WithDefault("10m")
        Duration requestTimeout();

        /**
         * The most tokens one request may generate, under LM-Infinite too; {@code max_tokens}
         * ({@code max_completion_tokens}) above it is a 400.
         */
        @WithDefault("4096")
        int maxNewTokens();

        /**
         * The most prompt tokens one request may have, under LM-Infinite too (which has no context limit; every
         * position a sequence reaches keeps a rotary table row); more is a 400.
         */
        @WithDefault("32768")
        int maxPromptTokens();

        /**
         * Sequences one tenant may run at once, however many it queues, so that the other slots stay open to other
         * tenants; unset: half of {@code max-running} (at least 1); set it to {@code max-running} for a single tenant.
         */
        OptionalInt maxRunningPerTenant();
    }

    /** The engine's own resources: its threads, KV cache and prefix cache. */
    interface EngineSettings {
        /**
         * The most libtorch intra-op threads a step uses, the one thread setting (the command line's
         * {@code --engine-threads}); a step with little work (a batch-1 decode of a small model) takes fewer. Unset:
         * the cores but one (the last serves HTTP).
         */
        OptionalInt threads();

        /** KV entries per sequence; 0: max_position_embeddings + 64. */
        @WithDefault("0")
        int kvCapacity();

        /**
         * KV bytes of finished prompts kept so that a tenant's next prompt with the same start skips that part of the
         * prefill (per tenant and adapter version, full attention, 16-token blocks, least recently used out first);
         * 0: off.
         */
        @WithDefault("67108864")
        long prefixCacheBytes();
    }

    interface Adapters {
        /**
         * The residency budget: adapter weight bytes installed in the engine (as its slots hold them: a rank rounded
         * up to its bucket) before the least recently used unpinned adapters are evicted.
         */
        @WithDefault("1073741824")
        long budgetBytes();

        /**
         * Threads that read, check and convert adapters off the engine thread (1 to 16); a request whose adapter is
         * cold waits for one of them.
         */
        @WithDefault("2")
        int loaderThreads();
    }

    interface Api {
        /**
         * Bytes of one {@code /v1/completions} or {@code /v1/chat/completions} body, counted as it arrives (declared
         * length or chunks); larger ones get 413 {@code request_too_large}. Admin uploads keep
         * {@code quarkus.http.limits.max-body-size}.
         */
        @WithDefault("8388608")
        long maxRequestBytes();
    }

    interface Metrics {
        /** Distinct {@code adapter} labels on metrics; further adapters are labelled {@code other}. */
        @WithDefault("32")
        int maxAdapterLabels();
    }

    default EngineOptions engineOptions() {
        EngineOptions.Device d = EngineOptions.Device.valueOf(device().toUpperCase(Locale.ROOT));
        return new EngineOptions(model(), d, scheduler().maxRunning(), engine().kvCapacity(), engine().prefixCacheBytes());
    }

    default SchedulerOptions schedulerOptions() {
        Scheduler s = scheduler();
        return new SchedulerOptions(s.maxRunning(), s.maxTokensPerStep(), s.prefillChunk(), s.maxQueued(), s.joinInterval(),
                s.requestTimeout(), s.maxNewTokens(), s.maxPromptTokens(),
                s.maxRunningPerTenant().orElse(SchedulerOptions.halfTheSlots(s.maxRunning())));
    }
}
