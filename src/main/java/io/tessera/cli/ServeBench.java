package io.tessera.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.Engine;
import io.tessera.engine.EngineOptions;
import io.tessera.runtime.EngineThreads;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Streaming clients against a running server (bin/tessera serve), then the bare engine in this process at the same
 * batch size on the same model: time to first token, inter-token latency, output tokens/s and their ratio.
 * Every request streams /v1/completions with temperature 0 and ignore_eos, so each yields exactly max_tokens.
 */
@Command(name = "serve", description = "Streaming clients against a running server: TTFT and inter-token p50/p99, "
        + "tokens/s, errors, ratio to the bare engine.")
final class ServeBench implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] PROMPTS = {
        "Returns the number of elements in this", "This License applies to any", "We propose a novel method for",
        "The following code shows how to", "In this paper we study the", "Copyright notice and permission to",
    };

    /** One request's measurements; ttft < 0 when it failed; tier: the server's X-Tessera-Adapter-Tier (null: none). */
    record Result(double ttftMs, List<Double> gapsMs, int tokens, String tier, String error) {
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--url", defaultValue = "http://127.0.0.1:8080", description = "the server")
    String url;

    @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:TESSERA_API_KEY}",
            description = "the bearer key of every request (default: $TESSERA_API_KEY)")
    String apiKey;

    @Option(names = "--concurrency", paramLabel = "C", defaultValue = "64", description = "streams at once")
    int concurrency;

    @Option(names = "--requests", paramLabel = "N", defaultValue = "256", description = "measured requests")
    int requests;

    @Option(names = "--max-tokens", paramLabel = "M", defaultValue = "64", description = "tokens per request")
    int maxTokens;

    @Option(names = "--warmup", paramLabel = "N", description = "requests before the measured ones (default: 2C)")
    Integer warmup;

    @Option(names = "--model", paramLabel = "NAME", description = "the model name to request (default: the server's first)")
    String model;

    @Option(names = "--model-dir", paramLabel = "DIR", defaultValue = "models/demo-llama",
            description = "the same model for the bare engine")
    Path modelDir;

    @Option(names = "--synthetic-adapters", paramLabel = "N", defaultValue = "0", description = "instead of the bare "
            + "engine: a bench tenant with N random adapters uploaded, a base-only pass and a pass on them (admin --api-key)")
    int syntheticAdapters;

    @Option(names = "--zipf", paramLabel = "S", defaultValue = "1.0", description = "with --synthetic-adapters: adapter "
            + "k (1-based) is asked for with weight 1/k^S")
    double zipf;

    @Option(names = "--seed", paramLabel = "SEED", defaultValue = "1", description = "with --synthetic-adapters: the "
            + "adapters' shapes and weights and the request mix")
    long seed;

    @Option(names = "--metrics-url", paramLabel = "URL", defaultValue = "http://127.0.0.1:9000/q/metrics",
            description = "with --synthetic-adapters: the server's metrics (loads, evictions)")
    String metricsUrl;

    @Mixin
    EngineArgs engine;

    @Override
    public Integer call() throws IOException {
        Main.inRange(spec, "--concurrency", concurrency, 1, 4096);
        Main.inRange(spec, "--requests", requests, 1, 10_000_000);
        Main.inRange(spec, "--max-tokens", maxTokens, 1, 1 << 20);
        int warmups = Main.inRange(spec, "--warmup", warmup == null ? 2 * concurrency : warmup, 0, 10_000_000);
        Main.inRange(spec, "--synthetic-adapters", syntheticAdapters, 0, FleetBench.MAX_ADAPTERS);
        if (!(zipf >= 0 && zipf <= 10)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--zipf must be in 0..10");
        }
        // the client's callbacks run on its selector thread: it shares the machine with the server, so no thread hops
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(Runnable::run)
                .connectTimeout(Duration.ofSeconds(10)).build();
        String model = this.model;
        if (model == null) {
            HttpResponse<String> models = send(http, request("/v1/models", apiKey).build());
            if (models.statusCode() != 200) {
                throw new IOException("GET " + url + "/v1/models: HTTP " + models.statusCode() + " " + models.body());
            }
            model = JSON.readTree(models.body()).path("data").path(0).path("id").asText();
        }
        if (syntheticAdapters > 0) {
            return new FleetBench(this, http, model, warmups).run(System.out);
        }
        // the bare engine runs with the server's default threads unless told otherwise (the fleet bench has none)
        EngineOptions.Device device = engine.prepare(EngineThreads.serving());

        // the bare engine runs before and after the load (the machine's other work varies); the mean is the baseline
        try (Engine e = Engine.open(new EngineOptions(modelDir, device, concurrency, 0))) {
            double before = bare(e, concurrency, maxTokens);
            // a first round, not counted, lets the server compile its hot paths
            String base = model;
            List<Result> all = new ArrayList<>(load(http, apiKey, i -> base, warmups));
            long t0 = System.nanoTime();
            List<Result> results = load(http, apiKey, i -> base, requests);
            double wall = (System.nanoTime() - t0) / 1e9;
            double after = bare(e, concurrency, maxTokens);
            report(System.out, url, model, concurrency, requests, maxTokens, results, wall, before, after);
            all.addAll(results);
            failOnErrors(all);
        }
        return 0;
    }

    /** A run with errors measured something else than the server's serving: never a silent success. */
    static void failOnErrors(List<Result> all) throws IOException {
        List<String> errors = all.stream().map(Result::error).filter(x -> x != null).toList();
        if (!errors.isEmpty()) {
            throw new IOException("bench serve: " + errors.size() + " of " + all.size() + " requests failed (warm-up "
                    + "included), first: " + errors.get(0));
        }
    }

    /** A request to the server, with {@code key} as the bearer key when there is one. */
    HttpRequest.Builder request(String path, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path));
        return key == null || key.isEmpty() ? b : b.header("Authorization", "Bearer " + key);
    }

    private static double bare(Engine e, int batch, int steps) {
        int prompt = 12;
        Bench.decodeRun(e, batch, prompt, 8, i -> null, AttentionPolicy.FULL);   // warm-up
        return Bench.decodeRun(e, batch, prompt, steps, i -> null, AttentionPolicy.FULL).decodeRate();
    }

    private static void report(PrintStream out, String url, String model, int concurrency, int requests, int maxTokens,
                               List<Result> results, double wall, double before, double after) {
        List<Result> ok = results.stream().filter(r -> r.error() == null).toList();
        long errors = results.size() - ok.size();
        int tokens = ok.stream().mapToInt(Result::tokens).sum();
        double[] ttft = ok.stream().mapToDouble(Result::ttftMs).sorted().toArray();
        double[] gaps = ok.stream().flatMap(r -> r.gapsMs().stream()).mapToDouble(Double::doubleValue).sorted().toArray();
        double serve = tokens / wall;
        double engine = (before + after) / 2;
        out.printf("bench serve: url=%s model=%s concurrency=%d requests=%d max_tokens=%d%n", url, model, concurrency, requests, maxTokens);
        out.println("| metric                     | value |");
        out.println("|----------------------------|-------|");
        out.printf("| TTFT p50 / p99 (ms)        | %.1f / %.1f |%n", pct(ttft, 50), pct(ttft, 99));
        out.printf("| inter-token p50 / p99 (ms) | %.1f / %.1f |%n", pct(gaps, 50), pct(gaps, 99));
        out.printf("| streams completed / errors | %d / %d |%n", ok.size(), errors);
        out.printf("| output tokens / wall (s)   | %d / %.2f |%n", tokens, wall);
        out.printf("| serve output tokens/s      | %.1f |%n", serve);
        out.printf("| bare engine tokens/s (batch %d, %d threads; before / after) | %.1f (%.1f / %.1f) |%n",
                concurrency, EngineThreads.current(), engine, before, after);
        out.printf("| ratio serve / engine       | %.3f |%n", serve / engine);
        results.stream().map(Result::error).filter(e -> e != null).distinct().limit(5).forEach(e -> out.println("error: " + e));
    }

    /** {@code requests} streams, {@code concurrency} at a time; request i asks for {@code modelOf(i)} with {@code key}. */
    List<Result> load(HttpClient http, String key, IntFunction<String> modelOf, int requests) {
        List<Result> results = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger next = new AtomicInteger();
        ExecutorService clients = Executors.newFixedThreadPool(concurrency);
        for (int c = 0; c < concurrency; c++) {
            clients.execute(() -> {
                for (int i = next.getAndIncrement(); i < requests; i = next.getAndIncrement()) {
                    results.add(stream(http, key, modelOf.apply(i), PROMPTS[i % PROMPTS.length] + " (" + i + ")"));
                }
            });
        }
        clients.shutdown();
        try {
            clients.awaitTermination(1, TimeUnit.HOURS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return results;
    }

    /** One streamed completion: first content chunk, gaps between chunks, tokens from the usage chunk. */
    private Result stream(HttpClient http, String key, String model, String prompt) {
        String body = JSON.createObjectNode().put("model", model).put("prompt", prompt).put("max_tokens", maxTokens)
                .put("temperature", 0).put("ignore_eos", true).put("stream", true)
                .set("stream_options", JSON.createObjectNode().put("include_usage", true)).toString();
        HttpRequest req = request("/v1/completions", key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        long start = System.nanoTime();
        try {
            HttpResponse<Stream<String>> r = http.send(req, HttpResponse.BodyHandlers.ofLines());
            if (r.statusCode() != 200) {
                return failed("HTTP " + r.statusCode() + " " + String.join("", r.body().toList()));
            }
            String tier = r.headers().firstValue("X-Tessera-Adapter-Tier").orElse(null);
            double ttft = -1;
            long last = 0;
            List<Double> gaps = new ArrayList<>(maxTokens);
            int tokens = -1;
            boolean done = false;
            for (String line : (Iterable<String>) r.body()::iterator) {
                if (!line.startsWith("data: ")) {
                    continue;
                }
                String data = line.substring(6);
                if (data.equals("[DONE]")) {
                    done = true;
                    continue;
                }
                // only the usage and error chunks are parsed: the client must not take the CPU the server needs
                if (data.startsWith("{\"error\"")) {
                    return failed(JSON.readTree(data).path("error").path("message").asText());
                }
                if (data.contains("\"usage\":{")) {
                    tokens = JSON.readTree(data).path("usage").path("completion_tokens").asInt();
                } else if (!data.contains("\"text\":\"\"")) {
                    long now = System.nanoTime();
                    if (last == 0) {
                        ttft = (now - start) / 1e6;
                    } else {
                        gaps.add((now - last) / 1e6);
                    }
                    last = now;
                }
            }
            if (!done || tokens < 0) {
                return failed("stream ended without usage and [DONE]");
            }
            return new Result(ttft, gaps, tokens, tier, null);
        } catch (IOException e) {
            return failed(e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed("interrupted");
        }
    }

    private static Result failed(String error) {
        return new Result(-1, List.of(), 0, null, error);
    }

    static HttpResponse<String> send(HttpClient http, HttpRequest req) throws IOException {
        try {
            return http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    static double pct(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100 * sorted.length) - 1)];
    }
}
