package io.tessera.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import io.tessera.adapters.Archives;
import io.tessera.api.admin.AdminApi;
import io.tessera.cluster.RateLimiter;
import io.tessera.cluster.RateLimiterClock;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.sampling.SamplingParams;
import io.tessera.scheduler.EngineFaults;
import io.tessera.scheduler.Generation;
import io.tessera.scheduler.GenerationListener;
import io.tessera.scheduler.GenerationRequest;
import io.tessera.scheduler.Scheduler;
import io.tessera.testing.Promtool;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

/** Health, Prometheus metrics and the committed OpenAPI document. */
@QuarkusTest
class ObservabilityApiTest extends ServiceTest {
    @Inject
    RateLimiter limiter;
    static final Path OPENAPI = Path.of("openapi/openapi.yaml");

    @Test
    void liveAndReadyOnceTheModelIsLoaded() {
        management().get("/q/health/live").then().statusCode(200);
        String ready = management().get("/q/health/ready").then().statusCode(200).extract().asString();
        assertThat(ready).contains("\"model\"").contains("\"ready\"");
    }

    /** Submits requests with token ids past the vocabulary, behind the API's back: their steps fail in torch. */
    private void failInsideTheEngine(int requests) {
        Scheduler scheduler = state.scheduler();
        int vocab = state.host().engine().config().vocabSize();
        SamplingParams params = SamplingParams.builder().maxTokens(2).build();
        for (int i = 0; i < requests; i++) {
            GenerationListener.Completion failed = new GenerationListener.Completion() {
                @Override
                public void onToken(Generation.Token token) {
                }
            };
            try (Scheduler.Place place = scheduler.reserve()) {
                place.submit(new GenerationRequest("demo", BASE, null, new int[] {vocab + i}, params, AttentionPolicy.FULL), failed);
            }
            assertThat(failed.done).failsWithin(Duration.ofSeconds(30));
        }
    }

    @Test
    void requestsThatFailInsideTheEngineNeverTakeLivenessDown() {
        management().get("/q/health/live").then().statusCode(200);
        failInsideTheEngine(4);   // a probe step after each finds the engine sound
        management().get("/q/health/live").then().statusCode(200).body("checks.find { it.name == 'engine' }.status", equalTo("UP"));
        post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"Returns\",\"max_tokens\":2}").then().statusCode(200);
    }

    @Test
    void livenessGoesDownWhenTheEngineKeepsFailingAndBackUpWhenAStepSucceeds() {
        management().get("/q/health/live").then().statusCode(200);
        EngineFaults.breakProbe(state.scheduler());
        try {
            failInsideTheEngine(3);
            management().get("/q/health/live").then().statusCode(503).body("checks.find { it.name == 'engine' }.status", equalTo("DOWN"));
        } finally {
            EngineFaults.heal(state.scheduler());
        }
        post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"Returns\",\"max_tokens\":2}").then().statusCode(200);
        management().get("/q/health/live").then().statusCode(200);
    }

    private static String metrics() {
        return management().get("/q/metrics").then().statusCode(200).extract().asString();
    }

    /** The value of one series, named and labelled exactly as served; 0 before its first sample. */
    private static double sample(String metrics, String series) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return 0;
    }

    @Test
    void metricsCountEachRequestItsTokensAndItsLatencies() {
        String before = metrics();
        JsonPath dora = post("/v1/completions", "{\"model\":\"research-dora\",\"prompt\":\"Returns\",\"max_tokens\":3}")
                .then().statusCode(200).extract().jsonPath();
        JsonPath plain = post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"Returns\",\"max_tokens\":3,\"ignore_eos\":true}")
                .then().statusCode(200).extract().jsonPath();
        post("/v1/completions", "{\"model\":\"nope\",\"prompt\":\"Returns\"}").then().statusCode(404);
        String after = metrics();
        ToDoubleFunction<String> moved = series -> sample(after, series) - sample(before, series);

        String base = "{adapter=\"none\",model=\"demo-llama\"}";
        String withDora = "{adapter=\"research-dora\",model=\"demo-llama\"}";
        String outcome = "outcome=\"" + dora.getString("choices[0].finish_reason") + "\"}";
        assertThat(moved.applyAsDouble("tessera_requests_total{adapter=\"none\",model=\"demo-llama\",outcome=\"length\"}")).isEqualTo(1);
        assertThat(moved.applyAsDouble("tessera_requests_total{adapter=\"none\",model=\"demo-llama\",outcome=\"model_not_found\"}"))
                .isEqualTo(1);
        assertThat(moved.applyAsDouble("tessera_requests_total" + withDora.replace("}", "," + outcome))).isEqualTo(1);
        assertThat(moved.applyAsDouble("tessera_prompt_tokens_total" + base)).isEqualTo(plain.getInt("usage.prompt_tokens"));
        assertThat(moved.applyAsDouble("tessera_prompt_cached_tokens_total" + base))
                .isEqualTo(plain.getInt("usage.prompt_tokens_details.cached_tokens"));
        assertThat(moved.applyAsDouble("tessera_generated_tokens_total" + base)).isEqualTo(3);
        assertThat(moved.applyAsDouble("tessera_generated_tokens_total" + withDora)).isEqualTo(dora.getInt("usage.completion_tokens"));
        assertThat(moved.applyAsDouble("tessera_prompt_tokens_total" + withDora)).isEqualTo(dora.getInt("usage.prompt_tokens"));
        // one first token and one duration per request; a gap between each two tokens
        assertThat(moved.applyAsDouble("tessera_time_to_first_token_seconds_count" + base)).isEqualTo(1);
        assertThat(moved.applyAsDouble("tessera_inter_token_latency_seconds_count" + base)).isEqualTo(2);
        assertThat(moved.applyAsDouble("tessera_request_duration_seconds_count" + base)).isEqualTo(1);
        // each generated token took a step of its own (prefill may take more)
        assertThat(moved.applyAsDouble("tessera_batch_size_count{model=\"demo-llama\"}"))
                .isGreaterThanOrEqualTo(3 + dora.getInt("usage.completion_tokens"));
        // the one adapter request was served by a load or by a resident adapter, exactly once
        assertThat(moved.applyAsDouble("tessera_adapter_loads_total{model=\"demo-llama\"}")
                + moved.applyAsDouble("tessera_adapter_hits_total{model=\"demo-llama\"}")).isEqualTo(1);
        assertThat(moved.applyAsDouble("tessera_adapter_misses_total{model=\"demo-llama\"}")
                + moved.applyAsDouble("tessera_adapter_hits_total{model=\"demo-llama\"}")).isEqualTo(1);
        assertThat(moved.applyAsDouble("tessera_adapter_load_duration_seconds_count{model=\"demo-llama\"}"))
                .isEqualTo(moved.applyAsDouble("tessera_adapter_loads_total{model=\"demo-llama\"}"));
        // nothing is left waiting or running once the responses are in (the gauges follow at the engine loop's next turn)
        String idle = await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10))
                .until(ObservabilityApiTest::metrics, m -> sample(m, "tessera_running_sequences{model=\"demo-llama\"}") == 0);
        assertThat(sample(idle, "tessera_queue_depth{model=\"demo-llama\"}")).isZero();
        assertThat(sample(idle, "tessera_running_sequences{model=\"demo-llama\"}")).isZero();
        assertThat(sample(idle, "tessera_kv_bytes_in_use{model=\"demo-llama\"}")).isZero();
    }

    @Test
    void healthAndMetricsAreServedOnTheManagementPortOnly() {
        management().get("/q/health/ready").then().statusCode(200);
        management().get("/q/metrics").then().statusCode(200);
        for (String path : List.of("/q/health/ready", "/q/health/live", "/q/metrics")) {
            assertThat(given().get(path).statusCode()).as("the API port serves no " + path).isEqualTo(404);
        }
    }

    /** The sum of tessera_requests_total over all its series. */
    private static double requestsTotal(String metrics) {
        return metrics.lines().filter(l -> l.startsWith("tessera_requests_total{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void adminAndUnknownRouteErrorsAreNotInferenceOutcomes() {
        String before = metrics();
        given().get("/v1/embeddings").then().statusCode(404);
        given().auth().oauth2(AdminApi.ADMIN).delete("/v1/admin/tenants/no-such-tenant-" + UUID.randomUUID()).then()
                .statusCode(404);
        given().auth().oauth2("tsk_not_a_key").get("/v1/admin/tenants").then().statusCode(401);
        assertThat(requestsTotal(metrics())).isEqualTo(requestsTotal(before));
        post("/v1/completions", "{\"model\":\"nope\",\"prompt\":\"Returns\"}").then().statusCode(404);
        assertThat(requestsTotal(metrics())).isEqualTo(requestsTotal(before) + 1);
    }

    /**
     * `promtool check metrics` parses the scrape in both formats the endpoint serves (OpenMetrics, what Prometheus
     * asks for, and the classic text format) and finds nothing to say about Tessera's meters in the text format it
     * lints; the latency histograms have their documented buckets.
     */
    @Test
    void theScrapePassesPromtoolCheckMetrics() throws Exception {
        post("/v1/completions", "{\"model\":\"research-lora\",\"prompt\":\"Returns\",\"max_tokens\":2}").then().statusCode(200);
        Path dir = Path.of("target");
        // what curl asks for (OpenMetrics, as Prometheus) and the text format promtool lints
        String openMetrics = management().header("Accept", "*/*").get("/q/metrics").then().statusCode(200)
                .extract().asString();
        String text = management().header("Accept", "text/plain").get("/q/metrics").then().statusCode(200).extract().asString();
        for (String scrape : List.of(openMetrics, text)) {
            Promtool.Result r = Promtool.run(dir, scrape, "check", "metrics");
            assertThat(r.output()).doesNotContain("error while linting").doesNotContain("parsing error");
        }
        Promtool.Result lint = Promtool.run(dir, text, "check", "metrics");
        assertThat(lint.output().lines().filter(l -> l.startsWith("tessera_"))).as(lint.output()).isEmpty();
        String series = "{adapter=\"research-lora\",model=\"demo-llama\",le=";
        Map<String, Integer> buckets = Map.of("tessera_time_to_first_token_seconds", 10, "tessera_inter_token_latency_seconds", 8,
                "tessera_request_duration_seconds", 10);
        buckets.forEach((name, bounds) -> assertThat(text.lines().filter(l -> l.startsWith(name + "_bucket" + series)))
                .as(name + ": the documented bounds and +Inf").hasSize(bounds + 1));
    }

    /** What one request to an operation answered. */
    private record Answer(String method, String path, int status) {
        @Override
        public String toString() {
            return method.toUpperCase(Locale.ROOT) + " " + path + " " + status;
        }
    }

    /** The answer of a request sent to make the operation answer {@code status}, once it did. */
    private static Answer answer(String method, String path, int status, Response r) {
        assertThat(r.statusCode()).as("%s %s: %s", method, path, r.asString()).isEqualTo(status);
        return new Answer(method, path, status);
    }

    private static RequestSpecification as(String key) {
        RequestSpecification r = given();
        return key == null ? r : r.auth().oauth2(key);
    }

    private static Response complete(String path, String key, String body) {
        return as(key).contentType("application/json").body(body).post(path);
    }

    /**
     * Sends real requests that make each main inference and admin operation answer each of its statuses, and looks
     * every status up in the served document's responses for that operation: the document follows the code.
     */
    @Test
    void everyStatusTheOperationsAnswerIsInTheDocument() throws IOException {
        try {
            sendEachStatusAndLookItUp();
        } finally {
            RateLimiterClock.free(limiter);
        }
    }

    private void sendEachStatusAndLookItUp() throws IOException {
        RestAssured.requestSpecification = null;   // each request below chooses its own key
        String admin = AdminApi.ADMIN;
        String[] tenant = AdminApi.newTenant("openapi");
        String limited = "openapi-limited-" + UUID.randomUUID().toString().substring(0, 8);
        String limitedKey = as(admin).contentType("application/json").body(Map.of("name", limited, "requests_per_minute", 1))
                .post("/v1/admin/tenants").then().statusCode(201).extract().path("api_key");
        RateLimiterClock.fix(limiter, RateLimiterClock.HALF_MINUTE);   // one window for the whole test
        complete("/v1/completions", limitedKey, "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":1}").then().statusCode(200);
        String big = "x".repeat(8 * 1024 * 1024);
        List<Answer> answers = new ArrayList<>();
        for (String path : List.of("/v1/completions", "/v1/chat/completions")) {
            String prompt = path.contains("chat") ? "\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]"
                    : "\"prompt\":\"%s\"";
            String ok = "{\"model\":\"demo-llama\"," + prompt.formatted("Returns") + ",\"max_tokens\":1}";
            answers.add(answer("post", path, 200, complete(path, demoKey, ok)));
            String negative = "{\"model\":\"demo-llama\"," + prompt.formatted("x") + ",\"max_tokens\":-1}";
            answers.add(answer("post", path, 400, complete(path, demoKey, negative)));
            answers.add(answer("post", path, 401, complete(path, null, ok)));
            answers.add(answer("post", path, 404, complete(path, demoKey, ok.replace("demo-llama", "nope"))));
            String tooLarge = "{\"model\":\"demo-llama\"," + prompt.formatted(big) + "}";
            answers.add(answer("post", path, 413, complete(path, demoKey, tooLarge)));
            answers.add(answer("post", path, 429, complete(path, limitedKey, ok)));   // the minute's one request is spent
            answers.add(answer("post", path, 415, as(demoKey).contentType("text/plain").body(ok).post(path)));
        }
        answers.add(answer("get", "/v1/models", 200, as(demoKey).get("/v1/models")));
        answers.add(answer("get", "/v1/models", 401, as(null).get("/v1/models")));
        answers.add(answer("get", "/v1/models/{model}", 200, as(demoKey).get("/v1/models/research-lora@1")));
        answers.add(answer("get", "/v1/models/{model}", 404, as(demoKey).get("/v1/models/nope")));
        answers.add(answer("get", "/v1/models/{model}", 401, as(null).get("/v1/models/demo-llama")));

        String adapters = "/v1/admin/adapters";
        byte[] lora = AdminApi.seedZip("research-lora");
        answers.add(answer("post", adapters, 201, AdminApi.upload(admin, tenant[0], "openapi-lora", lora, "adapter.zip", null)));
        byte[] text = "not an archive".getBytes(StandardCharsets.UTF_8);
        answers.add(answer("post", adapters, 400, AdminApi.upload(admin, tenant[0], "openapi-text", text, "adapter.txt", null)));
        Map<String, Object> bigConfig = Archives.filesOf(AdminApi.SEED.resolve("research-lora"));
        Object config = bigConfig.put("adapter_config.json", ("\"" + " ".repeat(2 << 20) + "\"").getBytes(StandardCharsets.UTF_8));
        byte[] bigArchive = Archives.zip(bigConfig);
        answers.add(answer("post", adapters, 413, AdminApi.upload(admin, tenant[0], "openapi-big", bigArchive, "adapter.zip", null)));
        Map<String, Object> pickle = new LinkedHashMap<>();
        pickle.put("adapter_config.json", config);
        pickle.put("adapter_model.bin", new byte[] {(byte) 0x80, 0x04, '.'});
        byte[] pickled = Archives.zip(pickle);
        answers.add(answer("post", adapters, 422, AdminApi.upload(admin, tenant[0], "openapi-pickle", pickled, "adapter.zip", null)));
        answers.add(answer("post", adapters, 401, AdminApi.upload("tsk_wrong", null, "openapi-lora", lora, "adapter.zip", null)));
        answers.add(answer("get", adapters, 200, as(tenant[1]).get(adapters)));
        answers.add(answer("get", adapters, 401, as(null).get(adapters)));
        answers.add(answer("get", adapters, 403, as(tenant[1]).queryParam("tenant", "demo").get(adapters)));
        answers.add(answer("get", adapters + "/{name}", 200, as(tenant[1]).get(adapters + "/openapi-lora")));
        answers.add(answer("get", adapters + "/{name}", 404, as(tenant[1]).get(adapters + "/missing")));
        String series = "/v1/admin/usage/series";
        answers.add(answer("get", series, 200, as(tenant[1]).queryParam("range", "hour").get(series)));
        answers.add(answer("get", series, 400, as(tenant[1]).queryParam("range", "week").get(series)));
        answers.add(answer("get", series, 401, as(null).queryParam("range", "hour").get(series)));
        answers.add(answer("get", series, 403, as(tenant[1]).queryParam("range", "hour").queryParam("tenant", "demo").get(series)));
        answers.add(answer("get", series, 404, as(admin).queryParam("range", "day").queryParam("tenant", "missing").get(series)));
        answers.add(answer("get", "/v1/admin/live", 200, as(tenant[1]).get("/v1/admin/live")));
        answers.add(answer("get", "/v1/admin/live", 401, as(null).get("/v1/admin/live")));
        answers.add(answer("post", "/v1/admin/tenants", 201, as(admin).contentType("application/json")
                .body(Map.of("name", "openapi-" + UUID.randomUUID().toString().substring(0, 8))).post("/v1/admin/tenants")));
        answers.add(answer("post", "/v1/admin/tenants", 400, as(admin).contentType("application/json")
                .body(Map.of("name", "no/slash")).post("/v1/admin/tenants")));
        answers.add(answer("post", "/v1/admin/tenants", 403, as(tenant[1]).contentType("application/json")
                .body(Map.of("name", "x")).post("/v1/admin/tenants")));
        answers.add(answer("post", "/v1/admin/tenants/{name}/keys", 201,
                as(admin).post("/v1/admin/tenants/" + tenant[0] + "/keys")));

        JsonNode paths = new ObjectMapper(new YAMLFactory()).readTree(given().get("/q/openapi?format=yaml").then().statusCode(200)
                .extract().asString()).path("paths");
        List<String> undocumented = answers.stream()
                .filter(a -> !paths.path(a.path()).path(a.method()).path("responses").has(Integer.toString(a.status())))
                .map(Answer::toString).toList();
        assertThat(undocumented).as("statuses the code answers that the document does not list (all answers: %s)", answers)
                .isEmpty();
    }

    @Test
    void swaggerUiServesTheDocumentWithoutAKey() {
        RestAssured.requestSpecification = null;
        assertThat(given().get("/q/swagger-ui/").then().statusCode(200).extract().asString()).containsIgnoringCase("swagger");
    }

    @Test
    void theServedOpenApiDocumentIsTheCommittedOne() throws IOException {
        String served = given().get("/q/openapi?format=yaml").then().statusCode(200).extract().asString();
        if (!Files.exists(OPENAPI) || !Files.readString(OPENAPI).equals(served)) {
            Path actual = Path.of("target/openapi-served.yaml");
            Files.writeString(actual, served);
            throw new AssertionError("the served OpenAPI document differs from " + OPENAPI + "; if the API change is "
                    + "intended, review and commit it: cp " + actual + " " + OPENAPI);
        }
    }
}
