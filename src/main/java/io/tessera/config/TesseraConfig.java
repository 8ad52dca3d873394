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

    /** Directory of the base model (config.json, model.safetensors, tokenizer.json). */
    @WithDefault("models/demo-llama")
    Path model();

    /** cpu, gpu or auto. */
    @WithDefault("auto")
    String device();

    /** PyTorch intra-op threads; default all cores but one, which is left to HTTP. */
    OptionalInt engineThreads();

    Scheduler scheduler();

    Adapters adapters();

    Metrics metrics();

    Api api();

    interface Scheduler {
        /** Sequences running at once; also the engine's KV slots. */
        @WithDefault("64")
        int maxRunning();

        /** Tokens one engine step feeds, all sequences together. */
        @WithDefault("512")
        int maxTokensPerStep();

        /** Prompt tokens one sequence feeds per step. */
        @WithDefault("32")
        int prefillChunk();

        /** Requests waiting for a place; more get 429. */
        @WithDefault("256")
        int maxQueued();

        /** While sequences decode, new ones join every this many steps, or once this many can join together. */
        @WithDefault("8")
        int joinInterval();

        /** Retry-After sent with 429. */
        @WithDefault("1s")
        Duration retryAfter();

        /** Longest time from a request's arrival to its last token; past it the request ends with an error. */
        @WithDefault("10m")
        Duration requestTimeout();

        /** The most tokens one request may generate (max_tokens above it is refused), LM-Infinite included. */
        @WithDefault("4096")
        int maxNewTokens();

        /** The most prompt tokens one request may have (LM-Infinite has no context limit to bound them). */
        @WithDefault("32768")
        int maxPromptTokens();

        /** Sequences one tenant may run at once; default half of max-running (at least 1). */
        OptionalInt maxRunningPerTenant();

        /** KV entries per sequence; 0 = max_position_embeddings + 64. */
        @WithDefault("0")
        int kvCapacity();

        /**
         * Bytes of finished prompts' keys and values kept so that a tenant's next prompt with the same start skips
         * that part of the prefill (per tenant and adapter version, full attention, 16-token blocks); 0 = off.
         */
        @WithDefault("67108864")
        long prefixCacheBytes();
    }

    interface Adapters {
        /** Bytes of adapter weights kept resident before least recently used ones are evicted. */
        @WithDefault("1073741824")
        long budgetBytes();
    }

    interface Api {
        /** Bytes of one completions or chat request body; larger ones get 413 (uploads keep the HTTP server's limit). */
        @WithDefault("8388608")
        long maxRequestBytes();
    }

    interface Metrics {
        /** Distinct adapter labels on metrics; further adapters are labelled "other". */
        @WithDefault("32")
        int maxAdapterLabels();
    }

    default EngineOptions engineOptions() {
        EngineOptions.Device d = EngineOptions.Device.valueOf(device().toUpperCase(Locale.ROOT));
        return new EngineOptions(model(), d, scheduler().maxRunning(), scheduler().kvCapacity(),
                scheduler().prefixCacheBytes());
    }

    default SchedulerOptions schedulerOptions() {
        Scheduler s = scheduler();
        return new SchedulerOptions(s.maxRunning(), s.maxTokensPerStep(), s.prefillChunk(), s.maxQueued(), s.joinInterval(),
                s.requestTimeout(), s.maxNewTokens(), s.maxPromptTokens(),
                s.maxRunningPerTenant().orElse(SchedulerOptions.halfTheSlots(s.maxRunning())));
    }
}
