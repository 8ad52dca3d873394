package io.tessera.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.sampling.SamplingParams;
import io.tessera.scheduler.EngineFaults;
import io.tessera.scheduler.Generation;
import io.tessera.scheduler.GenerationListener;
import io.tessera.scheduler.GenerationRequest;
import io.tessera.scheduler.Scheduler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

/** Health, Prometheus metrics and the committed OpenAPI document. */
@QuarkusTest
class ObservabilityApiTest extends ServiceTest {
    static final Path OPENAPI = Path.of("openapi/openapi.yaml");

    @Test
    void liveAndReadyOnceTheModelIsLoaded() {
        given().get("/q/health/live").then().statusCode(200);
        String ready = given().get("/q/health/ready").then().statusCode(200).extract().asString();
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
        given().get("/q/health/live").then().statusCode(200);
        failInsideTheEngine(4);   // a probe step after each finds the engine sound
        given().get("/q/health/live").then().statusCode(200).body("checks.find { it.name == 'engine' }.status", equalTo("UP"));
        post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"Returns\",\"max_tokens\":2}").then().statusCode(200);
    }

    @Test
    void livenessGoesDownWhenTheEngineKeepsFailingAndBackUpWhenAStepSucceeds() {
        given().get("/q/health/live").then().statusCode(200);
        EngineFaults.breakProbe(state.scheduler());
        try {
            failInsideTheEngine(3);
            given().get("/q/health/live").then().statusCode(503).body("checks.find { it.name == 'engine' }.status", equalTo("DOWN"));
        } finally {
            EngineFaults.heal(state.scheduler());
        }
        post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"Returns\",\"max_tokens\":2}").then().statusCode(200);
        given().get("/q/health/live").then().statusCode(200);
    }

    private static String metrics() {
        return given().get("/q/metrics").then().statusCode(200).extract().asString();
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
        // nothing is left waiting or running once the responses are in (the gauges follow at the engine loop's next turn)
        String idle = after;
        for (long deadline = System.nanoTime() + 5_000_000_000L; sample(idle, "tessera_running_sequences{model=\"demo-llama\"}") > 0
                && System.nanoTime() < deadline; ) {
            idle = metrics();
        }
        assertThat(sample(idle, "tessera_queue_depth{model=\"demo-llama\"}")).isZero();
        assertThat(sample(idle, "tessera_running_sequences{model=\"demo-llama\"}")).isZero();
        assertThat(sample(idle, "tessera_kv_bytes_in_use{model=\"demo-llama\"}")).isZero();
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
