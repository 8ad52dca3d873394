package io.tessera.api;

import static io.restassured.RestAssured.given;
import static io.tessera.api.admin.AdminApi.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.tessera.TestSupport;
import io.tessera.adapters.Archives;
import io.tessera.api.admin.AdminApi;
import io.tessera.cli.VerifyFixtures;
import io.tessera.cluster.RateLimiter;
import io.tessera.cluster.RateLimiterClock;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.Engine;
import io.tessera.engine.ResidentAdapter;
import io.tessera.engine.Sequence;
import io.tessera.engine.StepInput;
import io.tessera.engine.adapter.AdapterLoader;
import io.tessera.engine.tokenizer.TextTokenizer;
import io.tessera.service.ServingState;
import jakarta.inject.Inject;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance path: a tenant uploads research-lora and gets the engine's greedy output for it; a new version
 * and re-activation switch what new requests get (a running stream keeps the version it started with); delete
 * makes it 404; another tenant gets 404 at every step.
 */
@QuarkusTest
public class RegistryInferenceTest {
    private static final String PROMPT = "Returns the number of elements in this";

    @Inject
    ServingState state;
    @Inject
    RateLimiter limiter;
    @TestHTTPResource("/")
    URI root;

    public static String reference(String adapter) throws IOException {
        for (JsonNode g : new ObjectMapper().readTree(new File("testdata/reference/demo-eval.json")).get("greedy")) {
            if (g.get("prompt").asText().equals(PROMPT) && adapter.equals(g.path("adapter").asText(null))) {
                return g.get("text").asText().substring(PROMPT.length());
            }
        }
        throw new AssertionError("no reference for " + adapter);
    }

    public static Response complete(String key, String model) {
        return given().auth().oauth2(key).contentType("application/json")
                .body(Map.of("model", model, "prompt", PROMPT, "max_tokens", 32, "temperature", 0, "ignore_eos", true))
                .post("/v1/completions");
    }

    public static String text(String key, String model) {
        return complete(key, model).then().statusCode(200).extract().path("choices[0].text");
    }

    @Test
    void tenantUploadsChatsSwapsAndDeletes() throws IOException {
        String[] a = AdminApi.newTenant("e2e");
        String[] b = AdminApi.newTenant("e2e-other");
        String greedy = reference("research-lora");

        complete(a[1], "research-lora").then().statusCode(404).body("error.code", equalTo("model_not_found"));
        AdminApi.upload(a[1], null, "research-lora", AdminApi.seedZip("research-lora"), "research-lora.zip", null)
                .then().statusCode(201);
        assertThat(text(a[1], "research-lora")).isEqualTo(greedy);
        given().auth().oauth2(a[1]).contentType("application/json")
                .body(Map.of("model", "research-lora", "max_tokens", 8, "temperature", 0,
                        "messages", java.util.List.of(Map.of("role", "user", "content", PROMPT))))
                .post("/v1/chat/completions").then().statusCode(200).body("model", equalTo("research-lora"));
        given().auth().oauth2(a[1]).get("/v1/models").then().statusCode(200).body("data.id", hasItem("research-lora"));
        otherTenantSeesNothing(b[1]);

        // v2: same adapter, other scale: new requests get v2 at once
        Map<String, Object> files = Archives.filesOf(AdminApi.SEED.resolve("research-lora"));
        files.put("adapter_config.json", new String((byte[]) files.get("adapter_config.json"), StandardCharsets.UTF_8)
                .replace("\"lora_alpha\": 32", "\"lora_alpha\": 8").getBytes(StandardCharsets.UTF_8));
        AdminApi.upload(a[1], null, "research-lora", Archives.zip(files), "v2.zip", null).then().statusCode(201)
                .body("active_version", equalTo(2));
        String v2 = text(a[1], "research-lora");
        assertThat(v2).isNotEqualTo(greedy);
        otherTenantSeesNothing(b[1]);

        given().auth().oauth2(a[1]).contentType("application/json").body(Map.of("version", 1))
                .post("/v1/admin/adapters/research-lora/activate").then().statusCode(200);
        assertThat(text(a[1], "research-lora")).isEqualTo(greedy);
        otherTenantSeesNothing(b[1]);

        // the admin endpoints refuse the tenant key
        given().auth().oauth2(a[1]).get("/v1/admin/tenants").then().statusCode(403);
        given().auth().oauth2(a[1]).post("/v1/admin/adapters/research-lora/pin").then().statusCode(403);

        given().auth().oauth2(a[1]).delete("/v1/admin/adapters/research-lora").then().statusCode(204);
        complete(a[1], "research-lora").then().statusCode(404);
        otherTenantSeesNothing(b[1]);
        given().auth().oauth2(a[1]).get("/v1/models").then().statusCode(200).body("data.id", not(hasItem("research-lora")));
    }

    @Test
    void nameAtVersionServesThatVersionBeforeItIsActivatedAndOnlyToItsTenant() throws IOException {
        String[] a = AdminApi.newTenant("try");
        String[] b = AdminApi.newTenant("try-other");
        String greedy = reference("research-lora");
        AdminApi.upload(a[1], null, "research-lora", AdminApi.seedZip("research-lora"), "v1.zip", null).then().statusCode(201)
                .body("active_version", equalTo(1)).body("uploaded.version", equalTo(1)).body("uploaded.active", equalTo(true));
        Map<String, Object> files = Archives.filesOf(AdminApi.SEED.resolve("research-lora"));
        files.put("adapter_config.json", new String((byte[]) files.get("adapter_config.json"), StandardCharsets.UTF_8)
                .replace("\"lora_alpha\": 32", "\"lora_alpha\": 8").getBytes(StandardCharsets.UTF_8));
        byte[] v2 = Archives.zip(files);
        // not activated: the answer says which version was stored and its size, and what stays active
        AdminApi.upload(a[1], null, "research-lora", v2, "v2.zip", "false").then().statusCode(201)
                .body("active_version", equalTo(1)).body("uploaded.version", equalTo(2))
                .body("uploaded.size_bytes", equalTo(v2.length)).body("uploaded.active", equalTo(false));

        String tried = text(a[1], "research-lora@2");
        assertThat(tried).isNotEqualTo(greedy);
        assertThat(text(a[1], "research-lora")).isEqualTo(greedy);
        assertThat(text(a[1], "research-lora@1")).isEqualTo(greedy);
        complete(a[1], "research-lora@2").then().body("model", equalTo("research-lora@2"));
        given().auth().oauth2(a[1]).get("/v1/models/research-lora@2").then().statusCode(200).body("id", equalTo("research-lora@2"));
        for (String missing : new String[] {"research-lora@3", "research-lora@0", "research-lora@-1", "research-lora@",
            "research-lora@x", "research-lora@2147483648", "research-lora@99999999999999999999", "research-lora@2@2", "@2"}) {
            complete(a[1], missing).then().statusCode(404).body("error.code", equalTo("model_not_found"));
        }
        complete(b[1], "research-lora@1").then().statusCode(404);
        complete(ADMIN, "research-lora@1").then().statusCode(404);

        // activating it makes the plain name answer as the version tried
        given().auth().oauth2(a[1]).contentType("application/json").body(Map.of("version", 2))
                .post("/v1/admin/adapters/research-lora/activate").then().statusCode(200);
        assertThat(text(a[1], "research-lora")).isEqualTo(tried);
        given().auth().oauth2(a[1]).delete("/v1/admin/adapters/research-lora").then().statusCode(204);
        complete(a[1], "research-lora@1").then().statusCode(404);
    }

    @Test
    void aStreamKeepsTheVersionItStartedWithWhileANewOneIsActivated() throws Exception {
        String[] a = AdminApi.newTenant("swap");
        String v1 = uploadAndCompleteLong(a[1]);
        Map<String, Object> files = Archives.filesOf(AdminApi.SEED.resolve("research-lora"));
        files.put("adapter_config.json", new String((byte[]) files.get("adapter_config.json"), StandardCharsets.UTF_8)
                .replace("\"lora_alpha\": 32", "\"lora_alpha\": 8").getBytes(StandardCharsets.UTF_8));
        // stored before the stream opens, so that only the quick activation races the 200-token stream
        AdminApi.upload(a[1], null, "research-lora", Archives.zip(files), "v2.zip", "false").then().statusCode(201)
                .body("active_version", equalTo(1));
        Stream stream = openStream(a[1]);

        // v2 becomes active while the stream runs: new requests get it, the running stream keeps v1's weights
        given().auth().oauth2(a[1]).contentType("application/json").body(Map.of("version", 2))
                .post("/v1/admin/adapters/research-lora/activate").then().statusCode(200);
        assertThat(state.scheduler().running()).as("the stream is still generating").isPositive();
        assertThat(text(a[1], "research-lora")).isNotEqualTo(reference("research-lora"));
        assertThat(stream.rest()).isEqualTo(v1);
    }

    @Test
    void aStreamFinishesWhenItsAdapterIsDeletedAndNewRequestsGet404() throws Exception {
        String[] a = AdminApi.newTenant("gone");
        String v1 = uploadAndCompleteLong(a[1]);
        Stream stream = openStream(a[1]);
        given().auth().oauth2(a[1]).delete("/v1/admin/adapters/research-lora").then().statusCode(204);
        assertThat(state.scheduler().running()).as("the stream is still generating").isPositive();
        complete(a[1], "research-lora").then().statusCode(404).body("error.code", equalTo("model_not_found"));
        assertThat(stream.rest()).isEqualTo(v1);
    }

    @Test
    void aRepeatedPromptHitsItsTenantsPrefixCacheOnlyAndANewVersionStartsCold() throws IOException {
        String[] a = AdminApi.newTenant("prefix");
        String[] b = AdminApi.newTenant("prefix-other");
        for (String[] t : new String[][] {a, b}) {
            AdminApi.upload(t[1], null, "research-lora", AdminApi.seedZip("research-lora"), "r.zip", null).then().statusCode(201);
        }
        String prompt = PROMPT + " list. If this list contains more than Integer.MAX_VALUE elements, returns"
                + " Integer.MAX_VALUE. Returns true if this list contains the specified element.";
        JsonNode first = usageAndText(a[1], "research-lora", prompt);
        assertThat(first.at("/usage/prompt_tokens_details/cached_tokens").asInt()).isZero();
        int promptTokens = first.at("/usage/prompt_tokens").asInt();
        assertThat(promptTokens).isGreaterThan(32);

        JsonNode again = usageAndText(a[1], "research-lora", prompt);
        int cached = again.at("/usage/prompt_tokens_details/cached_tokens").asInt();
        assertThat(cached).isPositive().isLessThan(promptTokens).isEqualTo((promptTokens - 1) / 16 * 16);
        assertThat(again.at("/choices/0/text").asText()).isEqualTo(first.at("/choices/0/text").asText());

        // the same adapter bytes and prompt under another tenant: computed, never taken from the first tenant's cache
        JsonNode other = usageAndText(b[1], "research-lora", prompt);
        assertThat(other.at("/usage/prompt_tokens_details/cached_tokens").asInt()).isZero();
        assertThat(other.at("/choices/0/text").asText()).isEqualTo(first.at("/choices/0/text").asText());

        // a new version's weights make other keys and values: its first request starts cold
        Map<String, Object> files = Archives.filesOf(AdminApi.SEED.resolve("research-lora"));
        files.put("adapter_config.json", new String((byte[]) files.get("adapter_config.json"), StandardCharsets.UTF_8)
                .replace("\"lora_alpha\": 32", "\"lora_alpha\": 8").getBytes(StandardCharsets.UTF_8));
        AdminApi.upload(a[1], null, "research-lora", Archives.zip(files), "v2.zip", null).then().statusCode(201);
        assertThat(usageAndText(a[1], "research-lora", prompt).at("/usage/prompt_tokens_details/cached_tokens").asInt()).isZero();
    }

    @Test
    void aDeptAdapterServesWhatTheEngineComputesAndReusesOnlyItsOwnPrefixes(@TempDir Path dir) throws IOException {
        String[] a = AdminApi.newTenant("dept");
        Path adapter = AdminApi.dept(dir.resolve("dept"));
        AdminApi.upload(a[1], null, "dept", Archives.zip(Archives.filesOf(adapter)), "dept.zip", null).then().statusCode(201);
        given().auth().oauth2(a[1]).get("/v1/models").then().statusCode(200).body("data.id", hasItem("dept"));
        // a prompt shorter than max_length 16: the generated tokens sit inside the updated positions and get no update
        JsonNode near = usageAndText(a[1], "dept", PROMPT);
        assertThat(near.at("/usage/prompt_tokens").asInt()).isLessThan(16);
        assertThat(near.at("/choices/0/text").asText()).isEqualTo(greedy(adapter, PROMPT));

        String longer = PROMPT + " list. If this list contains more than Integer.MAX_VALUE elements, returns Integer.MAX_VALUE.";
        JsonNode cold = usageAndText(a[1], "dept", longer);
        JsonNode warm = usageAndText(a[1], "dept", longer);
        assertThat(cold.at("/usage/prompt_tokens_details/cached_tokens").asInt()).isZero();
        assertThat(warm.at("/usage/prompt_tokens_details/cached_tokens").asInt()).isPositive();
        assertThat(warm.at("/choices/0/text").asText()).isEqualTo(cold.at("/choices/0/text").asText()).isEqualTo(greedy(adapter, longer));
        // the same prompt under research-lora starts cold: the prefix was cached with the DePT adapter's embeddings
        AdminApi.upload(a[1], null, "research-lora", AdminApi.seedZip("research-lora"), "r.zip", null).then().statusCode(201);
        assertThat(usageAndText(a[1], "research-lora", longer).at("/usage/prompt_tokens_details/cached_tokens").asInt()).isZero();
    }

    /** The engine's own 8 greedy tokens for the prompt with the adapter in {@code dir}, as completion text. */
    private static String greedy(Path dir, String prompt) {
        TextTokenizer tokenizer = TextTokenizer.load(TestSupport.DEMO_LLAMA);
        int[] ids = tokenizer.encode(prompt);
        int[] all = Arrays.copyOf(ids, ids.length + 8);
        try (Engine engine = TestSupport.openCpu(TestSupport.DEMO_LLAMA, 1, 0)) {
            ResidentAdapter resident = engine.adapters().install(1, new AdapterLoader(engine.model()).load(dir), "dept");
            Sequence s = engine.open(AttentionPolicy.FULL, resident, ids.length);
            float[] logits = engine.step(List.of(StepInput.next(s, ids))).get(0);
            for (int k = ids.length; k < all.length; k++) {
                all[k] = VerifyFixtures.argmax(logits, 0, engine.config().vocabSize());
                logits = engine.step(List.of(StepInput.next(s, all[k]))).get(0);
            }
        }
        return tokenizer.decode(all).substring(tokenizer.decode(ids).length());
    }

    private static JsonNode usageAndText(String key, String model, String prompt) throws IOException {
        return new ObjectMapper().readTree(given().auth().oauth2(key).contentType("application/json")
                .body(Map.of("model", model, "prompt", prompt, "max_tokens", 8, "temperature", 0, "ignore_eos", true))
                .post("/v1/completions").then().statusCode(200).extract().asString());
    }

    private static final Map<String, Object> LONG = Map.of("model", "research-lora", "prompt", PROMPT, "max_tokens", 200,
            "temperature", 0, "ignore_eos", true);

    /** Uploads research-lora for the tenant; returns its 200-token greedy text. */
    private static String uploadAndCompleteLong(String key) throws IOException {
        AdminApi.upload(key, null, "research-lora", AdminApi.seedZip("research-lora"), "v1.zip", null).then().statusCode(201);
        String text = given().auth().oauth2(key).contentType("application/json").body(LONG).post("/v1/completions")
                .then().statusCode(200).extract().path("choices[0].text");
        assertThat(text).startsWith(reference("research-lora"));
        return text;
    }

    /** A completion stream read line by line, past its first event. */
    private record Stream(Iterator<String> lines, StringBuilder text) {
        /** The whole text once the stream has ended. */
        String rest() throws IOException {
            while (lines.hasNext()) {
                appendText(lines.next(), text);
            }
            return text.toString();
        }
    }

    private Stream openStream(String key) throws IOException, InterruptedException {
        Map<String, Object> streamed = new java.util.HashMap<>(LONG);
        streamed.put("stream", true);
        HttpRequest request = HttpRequest.newBuilder(root.resolve("/v1/completions")).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(new ObjectMapper().writeValueAsString(streamed))).build();
        Iterator<String> lines = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofLines()).body().iterator();
        StringBuilder text = new StringBuilder();
        while (text.isEmpty() && lines.hasNext()) {
            appendText(lines.next(), text);
        }
        assertThat(text).as("the stream's first event").isNotEmpty();
        return new Stream(lines, text);
    }

    /** Appends the text of a completion chunk's data line. */
    private static void appendText(String line, StringBuilder text) throws IOException {
        if (line.startsWith("data: {")) {
            text.append(new ObjectMapper().readTree(line.substring(6)).path("choices").path(0).path("text").asText());
        }
    }

    private static void otherTenantSeesNothing(String key) {
        complete(key, "research-lora").then().statusCode(404).body("error.code", equalTo("model_not_found"));
        given().auth().oauth2(key).get("/v1/admin/adapters/research-lora").then().statusCode(404);
        given().auth().oauth2(key).get("/v1/models").then().statusCode(200).body("data.id", not(hasItem("research-lora")));
    }

    @Test
    void keysForInference() {
        AdminApi.awaitReady();
        given().contentType("application/json").body(Map.of("model", "demo-llama", "prompt", "x", "max_tokens", 1))
                .post("/v1/completions").then().statusCode(401).body("error.type", equalTo("authentication_error"));
        // the admin key reaches the base model only
        complete(ADMIN, "demo-llama").then().statusCode(200);
        complete(ADMIN, "research-lora").then().statusCode(404);
    }

    @Test
    void rateLimitsPerTenant() {
        String name = "limited-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        String key = given().auth().oauth2(ADMIN).contentType("application/json")
                .body(Map.of("name", name, "requests_per_minute", 1)).post("/v1/admin/tenants").then().statusCode(201)
                .extract().path("api_key");
        AdminApi.awaitReady();
        Response r;
        RateLimiterClock.fix(limiter, RateLimiterClock.HALF_MINUTE);   // both requests in one window
        try {
            complete(key, "demo-llama").then().statusCode(200);
            r = complete(key, "demo-llama");
        } finally {
            RateLimiterClock.free(limiter);
        }
        r.then().statusCode(429).body("error.type", equalTo("rate_limit_error"));
        assertThat(r.header("Retry-After")).as("until the minute turns").isEqualTo("30");
        // usage is counted off the request path: give it a moment
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(given().auth().oauth2(key)
                .get("/v1/admin/usage").then().statusCode(200).extract().<Integer>path("data.demo-llama.requests"))
                .isNotNull().isGreaterThanOrEqualTo(1));
    }
}
