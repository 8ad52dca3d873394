package io.tessera.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.tessera.scheduler.Scheduler;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every refusal is an OpenAI error body {"error":{message,type,param,code}} with the right status. */
@QuarkusTest
class ErrorsApiTest extends ServiceTest {
    static final ObjectMapper JSON = new ObjectMapper();

    /** The error object of a response with the expected status. */
    static JsonNode error(Response r, int status) throws IOException {
        r.then().statusCode(status).contentType("application/json");
        JsonNode body = JSON.readTree(r.asString());
        JsonNode e = body.get("error");
        assertThat(e).isNotNull();
        assertThat(e.fieldNames()).toIterable().containsExactly("message", "type", "param", "code", "request_id");
        assertThat(e.get("message").asText()).isNotBlank();
        assertThat(e.get("request_id").asText()).isEqualTo(r.header(RequestIds.HEADER)).isNotBlank();
        return e;
    }

    @Test
    void badJsonIs400() throws IOException {
        JsonNode e = error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":"), 400);
        assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(e.get("code").asText()).isEqualTo("invalid_json");
    }

    @Test
    void aFieldOfTheWrongTypeIs400NamingIt() throws IOException {
        JsonNode e = error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":\"many\"}"), 400);
        assertThat(e.get("param").asText()).isEqualTo("max_tokens");
        e = error(post("/v1/chat/completions", "{\"model\":\"demo-llama\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream_options\":{\"include_usage\":\"yes\"},\"stream\":true}"), 400);
        assertThat(e.get("param").asText()).isEqualTo("stream_options.include_usage");
    }

    @Test
    void aFieldOutOfRangeIs400NamingIt() throws IOException {
        assertThat(error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"temperature\":3}"), 400)
                .get("param").asText()).isEqualTo("temperature");
        assertThat(error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":0}"), 400)
                .get("param").asText()).isEqualTo("max_tokens");
        assertThat(error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"top_p\":0}"), 400)
                .get("param").asText()).isEqualTo("top_p");
        assertThat(error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"logprobs\":9}"), 400)
                .get("param").asText()).isEqualTo("logprobs");
        assertThat(error(post("/v1/chat/completions", "{\"model\":\"demo-llama\",\"messages\":[]}"), 400)
                .get("param").asText()).isEqualTo("messages");
        assertThat(error(post("/v1/completions", "{\"prompt\":\"x\"}"), 400).get("param").asText()).isEqualTo("model");
        assertThat(error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"attention\":{\"type\":\"sliding\"}}"), 400)
                .get("param").asText()).isEqualTo("attention.type");
    }

    @Test
    void nOtherThanOneIsRefusedClearly() throws IOException {
        JsonNode e = error(post("/v1/chat/completions", "{\"model\":\"demo-llama\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":3}"), 400);
        assertThat(e.get("param").asText()).isEqualTo("n");
        assertThat(e.get("message").asText()).contains("n must be 1");
    }

    @Test
    void anUnknownModelOrAdapterIs404AndNeverTheBaseModel() throws IOException {
        JsonNode e = error(post("/v1/completions", "{\"model\":\"no-such-adapter\",\"prompt\":\"x\"}"), 404);
        assertThat(e.get("code").asText()).isEqualTo("model_not_found");
        assertThat(e.get("message").asText()).contains("no-such-adapter");
        error(post("/v1/chat/completions", "{\"model\":\"../demo-llama/research-lora\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"), 404);
        error(post("/v1/completions", "{\"model\":\"Demo-Llama\",\"prompt\":\"x\"}"), 404);
    }

    @Test
    void promptPlusMaxTokensOverTheContextIs400WithBothNumbers() throws IOException {
        String prompt = "[" + "300,".repeat(199) + "300]";
        JsonNode e = error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":" + prompt + ",\"max_tokens\":100}"), 400);
        assertThat(e.get("code").asText()).isEqualTo("context_length_exceeded");
        assertThat(e.get("message").asText()).contains("256").contains("200 prompt tokens").contains("100 max_tokens").contains("lm-infinite");
        // a prompt adapter's virtual tokens count too
        JsonNode v = error(post("/v1/completions", "{\"model\":\"legal-prompt\",\"prompt\":" + prompt + ",\"max_tokens\":41}"), 400);
        assertThat(v.get("message").asText()).contains("216 prompt tokens").contains("41 max_tokens");
        // LM-Infinite has no such limit
        post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":" + prompt + ",\"max_tokens\":100,\"attention\":{\"type\":\"lm-infinite\",\"n_global\":8,\"n_local\":128}}")
                .then().statusCode(200);
    }

    @Test
    void aFullQueueIs429WithRetryAfterBeforeThePromptIsEvenRead() throws IOException {
        Scheduler scheduler = state.scheduler();
        List<Scheduler.Place> held = new ArrayList<>();
        try {
            while (true) {
                held.add(scheduler.reserve());
            }
        } catch (io.tessera.scheduler.QueueFullException full) {
            // every place is taken
        }
        try {
            // an unreadable prompt would be a 400 from tokenizing: the 429 comes first
            Response r = post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":{\"not\":\"a prompt\"}}");
            JsonNode e = error(r, 429);
            assertThat(e.get("type").asText()).isEqualTo("rate_limit_error");
            assertThat(r.header("Retry-After")).isEqualTo("1");
        } finally {
            held.forEach(Scheduler.Place::close);
        }
        post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":1}").then().statusCode(200);
    }

    @Test
    void shuttingDownIs503() throws IOException {
        state.drain();
        try {
            JsonNode e = error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\"}"), 503);
            assertThat(e.get("type").asText()).isEqualTo("service_unavailable");
            assertThat(e.get("message").asText()).contains("shutting down");
        } finally {
            state.resume();
        }
    }

    @Test
    void unknownPathsMethodsAndMediaTypesGetOpenAiBodiesSayingWhatIsServed() throws IOException {
        error(given().get("/v1/engines"), 404);
        JsonNode embeddings = error(post("/v1/embeddings", "{\"model\":\"demo-llama\",\"input\":\"x\"}"), 404);
        assertThat(embeddings.get("code").asText()).isEqualTo("unknown_url");
        assertThat(embeddings.get("message").asText()).contains("POST /v1/embeddings").contains("/v1/chat/completions")
                .doesNotContain("HTTP 404");
        JsonNode method = error(given().get("/v1/completions"), 405);
        assertThat(method.get("code").asText()).isEqualTo("method_not_allowed");
        assertThat(method.get("message").asText()).contains("GET /v1/completions").contains("/q/openapi");
        JsonNode form = error(given().contentType("application/x-www-form-urlencoded").formParam("model", "demo-llama")
                .post("/v1/completions"), 415);
        assertThat(form.get("code").asText()).isEqualTo("unsupported_media_type");
        assertThat(form.get("message").asText()).contains("application/x-www-form-urlencoded").contains("application/json")
                .doesNotContain("@Consumes");
        // without a key as well
        error(given().auth().none().post("/v1/embeddings"), 404);
    }

    private static final String CHAT = "{\"model\":\"demo-llama\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]";

    @Test
    void trailingGarbageAfterTheBodyIs400() throws IOException {
        JsonNode e = error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":1} xyz"), 400);
        assertThat(e.get("code").asText()).isEqualTo("invalid_json");
        error(post("/v1/chat/completions", CHAT + "}{}"), 400);
    }

    @Test
    void anUnknownChatRoleIs400NamingIt() throws IOException {
        JsonNode e = error(post("/v1/chat/completions", "{\"model\":\"demo-llama\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"},"
                + "{\"role\":\"wizard\",\"content\":\"y\"}]}"), 400);
        assertThat(e.get("param").asText()).isEqualTo("messages[1].role");
        assertThat(e.get("message").asText()).contains("\"wizard\"").contains("user");
    }

    @Test
    void fractionalNumbersWhereIntegersBelongAre400() throws IOException {
        for (String prompt : new String[] {"[1.5]", "[5, 1.5]", "[5, 7.0]", "[5, 1e3]"}) {
            JsonNode e = error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":" + prompt + ",\"max_tokens\":1}"), 400);
            assertThat(e.get("param").asText()).as(prompt).isEqualTo("prompt");
        }
        assertThat(error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":2.5}"), 400)
                .get("param").asText()).isEqualTo("max_tokens");
        assertThat(error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":1,"
                + "\"attention\":{\"type\":\"lm-infinite\",\"n_local\":64.5}}"), 400).get("param").asText()).isEqualTo("attention.n_local");
        assertThat(error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"seed\":1e30}"), 400)
                .get("param").asText()).isEqualTo("seed");
    }

    @Test
    void valuesOfAnotherJsonTypeAreNotCoerced() throws IOException {
        String[][] cases = {{"max_tokens", "\"5\""}, {"seed", "\"5\""}, {"temperature", "\"0.5\""}, {"stream", "1"},
            {"stream", "\"true\""}, {"echo", "0"}, {"model", "5"}};
        for (String[] c : cases) {
            JsonNode e = error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"" + c[0] + "\":" + c[1] + "}"), 400);
            assertThat(e.get("param").asText()).as(c[0] + " " + c[1]).isEqualTo(c[0]);
        }
    }

    @Test
    void numbersNearTheirTypesLimitsAre400NamingTheField() throws IOException {
        String[][] cases = {
            {"max_tokens", "2147483648"}, {"max_tokens", "-2147483648"}, {"n", "2147483648"}, {"logprobs", "-1"},
            {"logprobs", "99999999999"}, {"seed", "9223372036854775808"}, {"temperature", "\"NaN\""},
            {"temperature", "1e309"}, {"top_p", "-0.0"}, {"presence_penalty", "\"Infinity\""}};
        for (String[] c : cases) {
            JsonNode e = error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"" + c[0] + "\":" + c[1] + "}"), 400);
            assertThat(e.get("param").asText()).as(c[0] + " " + c[1]).isEqualTo(c[0]);
        }
        JsonNode top = error(post("/v1/chat/completions", CHAT + ",\"logprobs\":true,\"top_logprobs\":21}"), 400);
        assertThat(top.get("param").asText()).isEqualTo("top_logprobs");
        JsonNode id = error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":[5, 2147483648]}"), 400);
        assertThat(id.get("param").asText()).isEqualTo("prompt");
        management().get("/q/health/live").then().statusCode(200);
    }

    @Test
    void lmInfiniteNumbersAreBoundedAndTheOverflowIs400WhileLivenessStaysUp() throws IOException {
        String overflow = "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":4,"
                + "\"attention\":{\"type\":\"lm-infinite\",\"n_global\":2147483647,\"n_local\":1}}";
        for (int i = 0; i < 4; i++) {
            JsonNode e = error(post("/v1/completions", overflow), 400);
            assertThat(e.get("param").asText()).startsWith("attention");
        }
        management().get("/q/health/live").then().statusCode(200);
        JsonNode sum = error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":4,"
                + "\"attention\":{\"type\":\"lm-infinite\",\"n_global\":200,\"n_local\":200}}"), 400);
        assertThat(sum.get("param").asText()).isEqualTo("attention");
        assertThat(sum.get("message").asText()).contains("n_global + n_local = 400").contains("KV room");
        JsonNode distance = error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":4,"
                + "\"attention\":{\"type\":\"lm-infinite\",\"n_local\":64,\"max_distance\":1000000}}"), 400);
        assertThat(distance.get("param").asText()).isEqualTo("attention.max_distance");
        assertThat(error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":4,"
                + "\"attention\":{\"type\":\"lm-infinite\",\"n_global\":-1}}"), 400).get("param").asText()).isEqualTo("attention.n_global");
        assertThat(error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":4,"
                + "\"attention\":{\"type\":\"lm-infinite\",\"n_local\":0}}"), 400).get("param").asText()).isEqualTo("attention.n_local");
        assertThat(error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":4,"
                + "\"attention\":{\"type\":\"lm-infinite\",\"n_global\":99999999999}}"), 400).get("param").asText()).isEqualTo("attention.n_global");
        // in bounds it runs
        post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":4,"
                + "\"attention\":{\"type\":\"lm-infinite\",\"n_global\":8,\"n_local\":64,\"max_distance\":256}}").then().statusCode(200);
    }

    @Test
    void maxTokensAboveMaxNewTokensAndLongPromptsAre400NamingTheLimit() throws IOException {
        String lm = ",\"attention\":{\"type\":\"lm-infinite\",\"n_local\":64}";
        JsonNode e = error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":4097" + lm + "}"), 400);
        assertThat(e.get("param").asText()).isEqualTo("max_tokens");
        assertThat(e.get("message").asText()).contains("4097").contains("tessera.scheduler.max-new-tokens").contains("4096");
        JsonNode c = error(post("/v1/chat/completions", CHAT + ",\"max_completion_tokens\":2147483647" + lm + "}"), 400);
        assertThat(c.get("param").asText()).isEqualTo("max_completion_tokens");
        assertThat(c.get("message").asText()).contains("tessera.scheduler.max-new-tokens");
        // LM-Infinite has no context limit: the prompt has its own
        String prompt = "[" + "300,".repeat(32768) + "300]";
        JsonNode p = error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":" + prompt + ",\"max_tokens\":1" + lm + "}"), 400);
        assertThat(p.get("param").asText()).isEqualTo("prompt");
        assertThat(p.get("message").asText()).contains("32769").contains("tessera.scheduler.max-prompt-tokens");
    }

    @Test
    void stopStringsAreBounded() throws IOException {
        String many = "[" + "\"a\",".repeat(16) + "\"b\"]";
        assertThat(error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"stop\":" + many + "}"), 400)
                .get("param").asText()).isEqualTo("stop");
        assertThat(error(post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"stop\":\"" + "z".repeat(129) + "\"}"), 400)
                .get("param").asText()).isEqualTo("stop");
    }

    @Test
    void anInferenceBodyOverItsLimitIs413NamingItWhileAdminBodiesKeepTheirs() throws IOException {
        String big = "{\"model\":\"demo-llama\",\"prompt\":\"" + "x".repeat(8 * 1024 * 1024) + "\"}";
        for (String path : RequestSizeLimit.PATHS) {
            JsonNode e = error(post(path, big), 413);
            assertThat(e.get("code").asText()).isEqualTo("request_too_large");
            assertThat(e.get("message").asText()).contains("8388608").contains("tessera.api.max-request-bytes");
        }
        // sent in chunks, without a declared length: counted as it arrives
        byte[] bytes = big.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Response chunked = given().contentType("application/json").body(new java.io.ByteArrayInputStream(bytes))
                .post("/v1/completions");
        assertThat(error(chunked, 413).get("code").asText()).isEqualTo("request_too_large");
        // an admin body of the same size is read (and refused for what it says, not for its size)
        Response admin = given().auth().oauth2("test-admin-key").contentType("application/json")
                .body("{\"name\":\"" + "x".repeat(8 * 1024 * 1024) + "\"}").post("/v1/admin/tenants");
        assertThat(admin.statusCode()).isNotEqualTo(413).isLessThan(500);
        post("/v1/completions", "{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":1}").then().statusCode(200);
    }
}
