package io.tessera.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.engine.ModelConfig;
import io.tessera.engine.adapter.AdapterConfig;
import io.tessera.engine.safetensors.SafetensorsWriter;
import io.tessera.util.Io;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * bench serve --synthetic-adapters N: a tenant of its own with N random adapters (LoRA and DoRA, some rsLoRA, ranks 8
 * to 64 on q_proj and v_proj: PEFT's default for Llama) uploaded without activating them, so that none is prefetched
 * and the fleet starts cold; a base-only pass, then a pass where request i asks for adapter k (as name@1) with Zipf(S)
 * probability; TTFT by the tier the server says held each adapter, the tiers' counters from
 * the metrics, and the passes' output tokens/s ratio. The tenant (with its adapters) is deleted at the end, whatever
 * happened.
 */
final class FleetBench {
    static final int MAX_ADAPTERS = 100_000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int[] RANKS = {8, 16, 32, 64};
    /** Uploads at once: enough to keep the server's upload path busy, few enough not to starve it. */
    private static final int UPLOADERS = 4;
    private static final String[] TIERS = {"engine", "host", "store"};
    private static final String[] COUNTERS = {"tessera_adapter_hits_total", "tessera_adapter_misses_total",
        "tessera_adapter_loads_total", "tessera_adapter_evictions_total", "tessera_adapters_host_hits_total",
        "tessera_adapters_host_misses_total", "tessera_adapters_host_evictions_total"};

    private final ServeBench b;
    private final HttpClient http;
    private final String model;
    private final int warmups;

    FleetBench(ServeBench bench, HttpClient http, String model, int warmups) {
        this.b = bench;
        this.http = http;
        this.model = model;
        this.warmups = warmups;
    }

    int run(PrintStream out) throws IOException {
        ModelConfig config = ModelConfig.load(b.modelDir);
        Random seeded = new Random(b.seed);
        // a fresh name each run: a tenant left by a killed run never collides
        String tenant = "bench-" + HexFormat.of().toHexDigits(new Random().nextInt());
        JsonNode created = admin("POST", "/v1/admin/tenants", 201, JSON.createObjectNode().put("name", tenant)
                .put("requests_per_minute", 1_000_000_000).put("tokens_per_minute", 1_000_000_000).toString());
        String key = created.path("api_key").asText();
        // also when the run is interrupted (Ctrl-C): a bench leaves no tenant behind
        Thread onExit = new Thread(() -> {
            try {
                admin("DELETE", "/v1/admin/tenants/" + tenant, 204, null);
            } catch (IOException e) {
                System.err.println("tessera: could not delete the bench tenant " + tenant + ": " + e.getMessage());
            }
        });
        Runtime.getRuntime().addShutdownHook(onExit);
        try {
            long t0 = System.nanoTime();
            long bytes = upload(tenant, config, seeded);
            out.printf("bench serve: url=%s model=%s tenant=%s adapters=%d (%d MB, uploaded in %.1f s) zipf=%.2f "
                            + "concurrency=%d requests=%d max_tokens=%d seed=%d%n", b.url, model, tenant, b.syntheticAdapters,
                    bytes >> 20, (System.nanoTime() - t0) / 1e9, b.zipf, b.concurrency, b.requests, b.maxTokens, b.seed);
            int[] picks = zipfPicks(b.syntheticAdapters, b.zipf, b.requests, seeded);

            List<ServeBench.Result> all = new ArrayList<>(b.load(http, key, i -> model, warmups));
            Pass base = pass(key, i -> model);
            Map<String, Double> before = metrics();
            Pass adapters = pass(key, i -> model(picks[i]));
            Map<String, Double> after = metrics();
            all.addAll(base.results());
            all.addAll(adapters.results());
            report(out, base, adapters, before, after);
            ServeBench.failOnErrors(all);
            return 0;
        } finally {
            Runtime.getRuntime().removeShutdownHook(onExit);
            admin("DELETE", "/v1/admin/tenants/" + tenant, 204, null);
        }
    }

    private record Pass(List<ServeBench.Result> results, double wallSeconds) {
        double tokensPerSecond() {
            return results.stream().filter(r -> r.error() == null).mapToInt(ServeBench.Result::tokens).sum() / wallSeconds;
        }
    }

    private Pass pass(String key, IntFunction<String> modelOf) {
        long t0 = System.nanoTime();
        List<ServeBench.Result> results = b.load(http, key, modelOf, b.requests);
        return new Pass(results, (System.nanoTime() - t0) / 1e9);
    }

    private static String name(int k) {
        return "bench-a" + k;
    }

    /** What a request asks for: version 1 by number, since the uploads were not activated. */
    private static String model(int k) {
        return name(k) + "@1";
    }

    /** Request i's adapter index: P(k) proportional to 1/(k+1)^s, drawn by inverting the cumulative weights. */
    static int[] zipfPicks(int n, double s, int requests, Random rnd) {
        double[] cumulative = new double[n];
        double sum = 0;
        for (int k = 0; k < n; k++) {
            sum += Math.pow(k + 1, -s);
            cumulative[k] = sum;
        }
        int[] picks = new int[requests];
        for (int i = 0; i < requests; i++) {
            int at = Arrays.binarySearch(cumulative, rnd.nextDouble() * sum);
            picks[i] = Math.min(n - 1, at >= 0 ? at : -at - 1);
        }
        return picks;
    }

    /** Generates (from the seed, in order) and uploads the adapters, {@value #UPLOADERS} at a time; their total bytes. */
    private long upload(String tenant, ModelConfig config, Random seeded) throws IOException {
        ExecutorService uploaders = Executors.newFixedThreadPool(UPLOADERS);
        Path tmp = Files.createTempDirectory("tessera-fleet-");
        try {
            List<Future<Integer>> sent = new ArrayList<>();
            for (int k = 0; k < b.syntheticAdapters; k++) {
                // every choice and weight comes from the one seeded generator, in adapter order
                int rank = RANKS[seeded.nextInt(RANKS.length)];
                boolean dora = seeded.nextInt(3) == 0;
                boolean rslora = seeded.nextInt(4) == 0;
                byte[] zip = zip(randomLora(tmp.resolve("a" + k), config, rank, dora, rslora, 0.02f, new Random(seeded.nextLong())));
                String name = name(k);
                sent.add(uploaders.submit(() -> {
                    admin(multipart(name, tenant, zip), 201);
                    return zip.length;
                }));
                if (sent.size() >= 2 * UPLOADERS) {
                    // bounded memory: wait for the oldest before generating more
                    await(sent.get(sent.size() - 2 * UPLOADERS));
                }
            }
            long bytes = 0;
            for (Future<Integer> f : sent) {
                bytes += await(f);
            }
            return bytes;
        } finally {
            uploaders.shutdownNow();
            Io.deleteTree(tmp);
        }
    }

    private static int await(Future<Integer> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    /**
     * A PEFT LoRA (DoRA with dora, rsLoRA's scaling with rslora) of rank r on q_proj and v_proj, weights (and the
     * magnitudes' offsets from 1) drawn with deviation std.
     */
    static Path randomLora(Path dir, ModelConfig c, int r, boolean dora, boolean rslora, float std, Random rnd)
            throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        int kv = c.numKvHeads() * c.headDim();
        for (int l = 0; l < c.numLayers(); l++) {
            for (String proj : new String[] {"q_proj", "v_proj"}) {
                int out = proj.equals("q_proj") ? c.numHeads() * c.headDim() : kv;
                String p = "base_model.model.model.layers." + l + ".self_attn." + proj;
                w.add(p + ".lora_A.weight", Bench.gaussian(rnd, r * c.hiddenSize(), std), r, c.hiddenSize());
                w.add(p + ".lora_B.weight", Bench.gaussian(rnd, out * r, std), out, r);
                if (dora) {
                    float[] m = Bench.gaussian(rnd, out, std);
                    for (int i = 0; i < out; i++) {
                        m[i] += 1;
                    }
                    w.add(p + ".lora_magnitude_vector", m, out);
                }
            }
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(AdapterConfig.FILE), """
                {"peft_type":"LORA","r":%d,"lora_alpha":%d,"target_modules":["q_proj","v_proj"],"use_dora":%b,"use_rslora":%b}
                """.formatted(r, 2 * r, dora, rslora));
        w.write(dir.resolve("adapter_model.safetensors"));
        return dir;
    }

    /** The directory's two files as a zip, in memory (the directory is deleted). */
    private static byte[] zip(Path dir) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.setLevel(1);   // random floats do not compress: spend no time trying
            for (String f : new String[] {AdapterConfig.FILE, "adapter_model.safetensors"}) {
                zip.putNextEntry(new ZipEntry(f));
                zip.write(Files.readAllBytes(dir.resolve(f)));
                zip.closeEntry();
            }
        }
        Io.deleteTree(dir);
        return bytes.toByteArray();
    }

    private HttpRequest multipart(String name, String tenant, byte[] zip) {
        String boundary = "tessera-" + HexFormat.of().toHexDigits(zip.length) + "-" + name;
        ByteArrayOutputStream body = new ByteArrayOutputStream(zip.length + 512);
        // not activated: activating prefetches into both tiers, and the fleet is to start cold, in the store
        for (String[] field : new String[][] {{"name", name}, {"tenant", tenant}, {"activate", "false"}}) {
            body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field[0] + "\"\r\n\r\n"
                    + field[1] + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name
                + ".zip\"\r\nContent-Type: application/zip\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.writeBytes(zip);
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return b.request("/v1/admin/adapters", b.apiKey).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build();
    }

    private JsonNode admin(String method, String path, int expected, String json) throws IOException {
        HttpRequest.Builder r = b.request(path, b.apiKey);
        r = json == null ? r.method(method, HttpRequest.BodyPublishers.noBody())
                : r.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        return admin(r.build(), expected);
    }

    private JsonNode admin(HttpRequest r, int expected) throws IOException {
        HttpResponse<String> answer = ServeBench.send(http, r);
        if (answer.statusCode() != expected) {
            throw new IOException(r.method() + " " + r.uri() + ": HTTP " + answer.statusCode() + " " + answer.body());
        }
        return answer.body().isEmpty() ? JSON.nullNode() : JSON.readTree(answer.body());
    }

    /** The tier counters, summed over their labels; empty when the metrics cannot be read (the report says n/a). */
    private Map<String, Double> metrics() {
        try {
            HttpResponse<String> r = ServeBench.send(http, HttpRequest.newBuilder(URI.create(b.metricsUrl)).build());
            if (r.statusCode() != 200) {
                return Map.of();
            }
            Map<String, Double> sums = new HashMap<>();
            for (String line : (Iterable<String>) r.body().lines()::iterator) {
                for (String c : COUNTERS) {
                    if (line.startsWith(c) && (line.charAt(c.length()) == '{' || line.charAt(c.length()) == ' ')) {
                        sums.merge(c, Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)), Double::sum);
                    }
                }
            }
            return sums;
        } catch (IOException | IllegalArgumentException e) {
            return Map.of();
        }
    }

    private void report(PrintStream out, Pass base, Pass adapters, Map<String, Double> before, Map<String, Double> after) {
        out.println("| pass / tier                 | requests | TTFT p50 / p99 (ms) | output tok/s |");
        out.println("|-----------------------------|----------|---------------------|--------------|");
        row(out, "base only", base.results(), String.format("%.1f", base.tokensPerSecond()));
        row(out, "adapters (Zipf " + b.zipf + ")", adapters.results(), String.format("%.1f", adapters.tokensPerSecond()));
        for (String tier : TIERS) {
            row(out, "  adapter in " + tier, adapters.results().stream().filter(r -> tier.equals(r.tier())).toList(), "");
        }
        long engine = count(adapters, "engine");
        long host = count(adapters, "host");
        long store = count(adapters, "store");
        out.printf("engine tier hit rate = %.3f (%d of %d)%n", engine / (double) Math.max(1, engine + host + store), engine,
                engine + host + store);
        out.printf("host tier hit rate = %.3f (%d of %d engine misses)%n", host / (double) Math.max(1, host + store), host,
                host + store);
        if (before.isEmpty() || after.isEmpty()) {
            out.println("loads = n/a, evictions = n/a (metrics not readable at " + b.metricsUrl + ")");
        } else {
            out.printf("loads = %.0f, evictions = %.0f (engine tier); host tier: hits = %.0f, misses = %.0f, evictions = %.0f%n",
                    delta(before, after, COUNTERS[2]), delta(before, after, COUNTERS[3]), delta(before, after, COUNTERS[4]),
                    delta(before, after, COUNTERS[5]), delta(before, after, COUNTERS[6]));
        }
        long errors = base.results().stream().filter(r -> r.error() != null).count()
                + adapters.results().stream().filter(r -> r.error() != null).count();
        adapters.results().stream().map(ServeBench.Result::error).filter(e -> e != null).distinct().limit(5)
                .forEach(e -> out.println("error: " + e));
        out.println("errors = " + errors);
        out.printf("ratio adapters/base = %.3f%n", adapters.tokensPerSecond() / base.tokensPerSecond());
    }

    private static long count(Pass p, String tier) {
        return p.results().stream().filter(r -> r.error() == null && tier.equals(r.tier())).count();
    }

    private static double delta(Map<String, Double> before, Map<String, Double> after, String counter) {
        return after.getOrDefault(counter, 0.0) - before.getOrDefault(counter, 0.0);
    }

    private static void row(PrintStream out, String label, List<ServeBench.Result> results, String rate) {
        double[] ttft = results.stream().filter(r -> r.error() == null).mapToDouble(ServeBench.Result::ttftMs).sorted().toArray();
        out.printf("| %-27s | %8d | %8.1f / %8.1f | %12s |%n", label, ttft.length, ServeBench.pct(ttft, 50),
                ServeBench.pct(ttft, 99), rate);
    }
}
