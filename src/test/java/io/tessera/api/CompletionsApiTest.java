package io.tessera.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Completions, chat and models on the demo model, against the reference greedy outputs. */
@QuarkusTest
class CompletionsApiTest extends ServiceTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PROMPT = "Returns the number of elements in this";

    /** The reference greedy run of (adapter, PROMPT): its text after the prompt and its token ids. */
    static JsonNode reference(String adapter) throws IOException {
        for (JsonNode g : JSON.readTree(Path.of("testdata/reference/demo-eval.json").toFile()).get("greedy")) {
            if (g.get("prompt").asText().equals(PROMPT) && g.path("adapter").asText("null").equals(adapter)) {
                return g;
            }
        }
        throw new IllegalStateException("no reference for " + adapter);
    }

    @Test
    void greedyCompletionIsTheReferenceContinuationUpToEndOfSequence() throws IOException {
        JsonNode ref = reference("null");
        int eos = 0;
        List<Integer> ids = JSON.convertValue(ref.get("new_tokens"), JSON.getTypeFactory().constructCollectionType(List.class, Integer.class));
        int end = ids.indexOf(eos);
        assertThat(end).isEqualTo(22);

        Response r = post("/v1/completions", """
                {"model":"demo-llama","prompt":"%s","max_tokens":32,"temperature":0}""".formatted(PROMPT));
        r.then().statusCode(200).contentType("application/json");
        JsonNode body = JSON.readTree(r.asString());
        String text = body.at("/choices/0/text").asText();
        assertThat(text).isEqualTo(" queue. If this queue contains more than Integer.MAX_VALUE elements, returns Integer.MAX_VALUE.");
        assertThat(ref.get("text").asText()).startsWith(PROMPT + text);
        assertThat(body.at("/choices/0/finish_reason").asText()).isEqualTo("stop");
        assertThat(body.get("object").asText()).isEqualTo("text_completion");
        assertThat(body.get("model").asText()).isEqualTo(BASE);
        // the end token counts as generated
        assertThat(body.at("/usage/prompt_tokens").asInt()).isEqualTo(ref.get("input_ids").size());
        assertThat(body.at("/usage/completion_tokens").asInt()).isEqualTo(end + 1);
        assertThat(body.at("/usage/total_tokens").asInt()).isEqualTo(ref.get("input_ids").size() + end + 1);
    }

    @Test
    void anAdapterModelAnswersAsTheAdapterAndStopsAtMaxTokensWithLength() throws IOException {
        JsonNode ref = reference("research-lora");
        Response r = post("/v1/completions", """
                {"model":"research-lora","prompt":"%s","max_tokens":32,"temperature":0}""".formatted(PROMPT));
        r.then().statusCode(200);
        JsonNode body = JSON.readTree(r.asString());
        assertThat(PROMPT + body.at("/choices/0/text").asText()).isEqualTo(ref.get("text").asText());
        assertThat(body.at("/choices/0/finish_reason").asText()).isEqualTo("length");
        assertThat(body.at("/usage/completion_tokens").asInt()).isEqualTo(32);
        assertThat(body.get("model").asText()).isEqualTo("research-lora");
    }

    @Test
    void streamedCompletionHasTheSameTextEndsInDoneAndReportsUsage() throws IOException {
        String request = """
                {"model":"demo-llama","prompt":"%s","max_tokens":10,"temperature":0%s}""";
        String whole = JSON.readTree(post("/v1/completions", request.formatted(PROMPT, "")).asString()).at("/choices/0/text").asText();

        Response r = post("/v1/completions", request.formatted(PROMPT, ",\"stream\":true,\"stream_options\":{\"include_usage\":true}"));
        r.then().statusCode(200).contentType("text/event-stream");
        List<String> events = ServiceTest.events(r.asString());
        assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
        StringBuilder text = new StringBuilder();
        JsonNode usage = null;
        String finish = null;
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode chunk = JSON.readTree(e);
            assertThat(chunk.get("object").asText()).isEqualTo("text_completion");
            if (chunk.get("choices").isEmpty()) {
                usage = chunk.get("usage");
            } else {
                text.append(chunk.at("/choices/0/text").asText());
                if (!chunk.at("/choices/0/finish_reason").isNull()) {
                    finish = chunk.at("/choices/0/finish_reason").asText();
                }
            }
        }
        assertThat(text.toString()).isEqualTo(whole);
        assertThat(finish).isEqualTo("length");
        assertThat(usage.get("completion_tokens").asInt()).isEqualTo(10);
        assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(7);
    }

    @Test
    void chatUsesTheTemplateAndStreamsTheSameMessage() throws IOException {
        String request = """
                {"model":"demo-llama","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Hello"}],
                 "max_completion_tokens":12,"temperature":0%s}""";
        JsonNode body = JSON.readTree(post("/v1/chat/completions", request.formatted("")).asString());
        assertThat(body.get("object").asText()).isEqualTo("chat.completion");
        assertThat(body.at("/choices/0/message/role").asText()).isEqualTo("assistant");
        String content = body.at("/choices/0/message/content").asText();
        assertThat(content).isNotEmpty();
        // <|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n
        assertThat(body.at("/usage/prompt_tokens").asInt()).isGreaterThan(10);

        List<String> events = ServiceTest.events(post("/v1/chat/completions", request.formatted(",\"stream\":true")).asString());
        assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
        JsonNode first = JSON.readTree(events.get(0));
        assertThat(first.get("object").asText()).isEqualTo("chat.completion.chunk");
        assertThat(first.at("/choices/0/delta/role").asText()).isEqualTo("assistant");
        StringBuilder streamed = new StringBuilder();
        for (String e : events.subList(0, events.size() - 1)) {
            streamed.append(JSON.readTree(e).at("/choices/0/delta/content").asText(""));
        }
        assertThat(streamed.toString()).isEqualTo(content);
        JsonNode last = JSON.readTree(events.get(events.size() - 2));
        assertThat(last.at("/choices/0/finish_reason").asText()).isEqualTo(body.at("/choices/0/finish_reason").asText());
        assertThat(last.has("usage")).isFalse();
    }

    @Test
    void logprobsListTheChosenTokenAndTheMostLikelyAlternatives() throws IOException {
        JsonNode body = JSON.readTree(post("/v1/completions", """
                {"model":"demo-llama","prompt":"%s","max_tokens":4,"temperature":0,"logprobs":2}""".formatted(PROMPT)).asString());
        JsonNode lp = body.at("/choices/0/logprobs");
        assertThat(lp.get("tokens")).hasSize(4);
        assertThat(String.join("", JSON.convertValue(lp.get("tokens"), String[].class))).isEqualTo(body.at("/choices/0/text").asText());
        for (int i = 0; i < 4; i++) {
            assertThat(lp.get("token_logprobs").get(i).asDouble()).isLessThanOrEqualTo(0);
            assertThat(lp.get("top_logprobs").get(i)).hasSize(2);
            // greedy: the chosen token is the most likely one
            assertThat(lp.get("top_logprobs").get(i).fieldNames().next()).isEqualTo(lp.get("tokens").get(i).asText());
        }

        JsonNode chat = JSON.readTree(post("/v1/chat/completions", """
                {"model":"demo-llama","messages":[{"role":"user","content":"Hi"}],"max_tokens":3,"ignore_eos":true,"logprobs":true,"top_logprobs":3}""").asString());
        JsonNode content = chat.at("/choices/0/logprobs/content");
        assertThat(content).hasSize(3);
        assertThat(content.get(0).get("top_logprobs")).hasSize(3);
        assertThat(content.get(0).get("bytes").isArray()).isTrue();
    }

    @Test
    void modelsListsTheBaseAndItsAdaptersWithParent() throws IOException {
        JsonNode body = JSON.readTree(given().get("/v1/models").then().statusCode(200).extract().asString());
        assertThat(body.get("object").asText()).isEqualTo("list");
        JsonNode data = body.get("data");
        assertThat(data.get(0).get("id").asText()).isEqualTo(BASE);
        assertThat(data.get(0).get("parent").isNull()).isTrue();
        assertThat(data.findValuesAsText("id")).containsExactly(BASE, "legal-prompt", "research-dora", "research-lora");
        for (int i = 1; i < data.size(); i++) {
            assertThat(data.get(i).get("parent").asText()).isEqualTo(BASE);
            assertThat(data.get(i).get("object").asText()).isEqualTo("model");
        }
        for (JsonNode m : data) {
            // the demo model's trained length (256) within the KV room
            assertThat(m.get("max_model_len").asInt()).as(m.get("id").asText()).isEqualTo(state.host().contextLimit()).isPositive();
        }
    }

    @Test
    void oneModelIsRetrievedByIdWithItsVersionsUploadTime() throws IOException {
        JsonNode base = JSON.readTree(given().get("/v1/models/" + BASE).then().statusCode(200).extract().asString());
        assertThat(base.get("id").asText()).isEqualTo(BASE);
        assertThat(base.get("max_model_len").asInt()).isEqualTo(state.host().contextLimit());
        JsonNode lora = JSON.readTree(given().get("/v1/models/research-lora").then().statusCode(200).extract().asString());
        assertThat(lora.get("parent").asText()).isEqualTo(BASE);
        assertThat(lora).isEqualTo(JSON.readTree(given().get("/v1/models").asString()).get("data").get(3));
        // created is the active version's upload time in the registry, not the time of a request
        JsonNode detail = JSON.readTree(given().get("/v1/admin/adapters/research-lora").then().statusCode(200).extract().asString());
        int active = detail.at("/adapter/active_version").asInt();
        for (JsonNode v : detail.get("versions")) {
            if (v.get("version").asInt() == active) {
                assertThat(lora.get("created").asLong()).isEqualTo(java.time.Instant.parse(v.get("created_at").asText()).getEpochSecond());
            }
        }
        ErrorsApiTest.error(given().get("/v1/models/no-such-model"), 404);
        ErrorsApiTest.error(given().get("/v1/models/research-lora@99"), 404);
    }

    @Test
    void aPromptTuningAdapterMatchesItsReference() throws IOException {
        JsonNode ref = reference("legal-prompt");
        JsonNode body = JSON.readTree(post("/v1/completions", """
                {"model":"legal-prompt","prompt":"%s","max_tokens":32,"temperature":0}""".formatted(PROMPT)).asString());
        assertThat(ref.get("text").asText()).startsWith(PROMPT + body.at("/choices/0/text").asText());
        assertThat(body.at("/usage/prompt_tokens").asInt()).isEqualTo(7);
    }
}
