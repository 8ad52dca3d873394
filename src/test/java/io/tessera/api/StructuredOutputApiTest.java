package io.tessera.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** response_format on both endpoints, plain and streamed, at temperature 1 with several seeds on demo-llama. */
@QuarkusTest
class StructuredOutputApiTest extends ServiceTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SCHEMA = """
            {"type":"object","properties":{"city":{"type":"string","maxLength":12},
             "rain":{"type":"boolean"},"mm":{"type":"number","minimum":0,"maximum":50}},
             "required":["city","rain"],"additionalProperties":false}""";

    private static String format(String schema) {
        return "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"weather\",\"strict\":true,\"schema\":" + schema + "}}";
    }

    private static void assertValid(String schema, String text) throws IOException {
        var errors = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(JSON.readTree(schema))
                .validate(JSON.readTree(text));
        assertThat(errors).as(text).isEmpty();
    }

    @Test
    void chatWithAJsonSchemaAlwaysValidatesPlainAndStreamed() throws IOException {
        for (int seed = 1; seed <= 4; seed++) {
            for (String adapter : List.of(BASE, "research-lora", "research-dora", "legal-prompt")) {
                String body = """
                        {"model":"%s","messages":[{"role":"user","content":"Weather?"}],"temperature":1,"seed":%d,
                         "max_tokens":150,"response_format":%s%s}""";
                Response r = post("/v1/chat/completions", body.formatted(adapter, seed, format(SCHEMA), ""));
                r.then().statusCode(200);
                JsonNode out = JSON.readTree(r.asString());
                assertThat(out.at("/choices/0/finish_reason").asText()).isEqualTo("stop");
                String whole = out.at("/choices/0/message/content").asText();
                assertValid(SCHEMA, whole);

                Response s = post("/v1/chat/completions", body.formatted(adapter, seed, format(SCHEMA), ",\"stream\":true"));
                s.then().statusCode(200).contentType("text/event-stream");
                StringBuilder text = new StringBuilder();
                for (String e : ServiceTest.events(s.asString())) {
                    if (!e.equals("[DONE]")) {
                        text.append(JSON.readTree(e).at("/choices/0/delta/content").asText(""));
                    }
                }
                assertThat(text.toString()).isEqualTo(whole);
            }
        }
    }

    @Test
    void completionsWithJsonObjectGiveOneObject() throws IOException {
        Response r = post("/v1/completions", """
                {"model":"demo-llama","prompt":"JSON:","temperature":0.7,"seed":3,"max_tokens":120,
                 "response_format":{"type":"json_object"}}""");
        r.then().statusCode(200);
        JsonNode out = JSON.readTree(r.asString());
        String finish = out.at("/choices/0/finish_reason").asText();
        if (finish.equals("stop")) {
            assertThat(JSON.readTree(out.at("/choices/0/text").asText()).isObject()).isTrue();
        } else {
            assertThat(finish).isEqualTo("length");
            assertThat(out.at("/choices/0/text").asText().strip()).startsWith("{");
        }
    }

    @Test
    void unsupportedKeywordsAreA400NamingTheKeyword() throws IOException {
        Response r = post("/v1/chat/completions", """
                {"model":"demo-llama","messages":[{"role":"user","content":"x"}],
                 "response_format":%s}""".formatted(format("{\"type\":\"string\",\"format\":\"email\"}")));
        r.then().statusCode(400);
        JsonNode error = JSON.readTree(r.asString()).get("error");
        assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.get("param").asText()).isEqualTo("response_format.json_schema.schema.format");
        assertThat(error.get("message").asText()).contains("'format'");

        Response bad = post("/v1/completions", """
                {"model":"demo-llama","prompt":"x","response_format":{"type":"yaml"}}""");
        bad.then().statusCode(400);
        assertThat(JSON.readTree(bad.asString()).at("/error/param").asText()).isEqualTo("response_format.type");
    }
}
