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

    static final String TOOLS = """
            [{"type":"function","function":{"name":"get_weather","description":"Weather in a city","parameters":
              {"type":"object","properties":{"city":{"type":"string","maxLength":12},"unit":{"enum":["c","f"]}},
               "required":["city","unit"],"additionalProperties":false}}},
             {"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":
              {"zone":{"type":"string","maxLength":6}},"required":["zone"],"additionalProperties":false}}}]""";

    private static String chat(String extra) {
        return """
                {"model":"demo-llama","messages":[{"role":"user","content":"Weather in Oslo?"},
                 {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
                  "function":{"name":"get_time","arguments":"{\\"zone\\":\\"CET\\"}"}}]},
                 {"role":"tool","tool_call_id":"call_1","content":"12:00"}],
                 "temperature":1,"max_tokens":120,"tools":%s%s}""".formatted(TOOLS, extra);
    }

    @Test
    void requiredAndNamedToolChoicesAlwaysGiveAValidCallPlainAndStreamed() throws IOException {
        for (int seed = 1; seed <= 3; seed++) {
            for (String choice : List.of("\"required\"", "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}")) {
                Response r = post("/v1/chat/completions", chat(",\"seed\":" + seed + ",\"tool_choice\":" + choice));
                r.then().statusCode(200);
                JsonNode choice0 = JSON.readTree(r.asString()).at("/choices/0");
                assertThat(choice0.get("finish_reason").asText()).isEqualTo("tool_calls");
                assertThat(choice0.at("/message/content").isNull()).isTrue();
                JsonNode call = choice0.at("/message/tool_calls/0");
                assertThat(call.get("id").asText()).startsWith("call_");
                assertThat(call.get("type").asText()).isEqualTo("function");
                String name = call.at("/function/name").asText();
                if (choice.contains("get_weather")) {
                    assertThat(name).isEqualTo("get_weather");
                }
                JsonNode tool = JSON.readTree(TOOLS).findParents("name").stream()
                        .filter(f -> f.get("name").asText().equals(name)).findFirst().orElseThrow();
                assertValid(tool.get("parameters").toString(), call.at("/function/arguments").asText());

                Response s = post("/v1/chat/completions", chat(",\"seed\":" + seed + ",\"stream\":true,\"tool_choice\":" + choice));
                List<String> events = ServiceTest.events(s.asString());
                JsonNode last = JSON.readTree(events.get(events.size() - 2)).at("/choices/0");
                assertThat(last.get("finish_reason").asText()).isEqualTo("tool_calls");
                JsonNode delta = last.at("/delta/tool_calls/0");
                assertThat(delta.get("index").asInt()).isZero();
                assertThat(delta.at("/function/name").asText()).isEqualTo(name);
                assertThat(delta.at("/function/arguments").asText()).isEqualTo(call.at("/function/arguments").asText());
            }
        }
    }

    @Test
    void autoAnswersInTextOrWithAValidCallAndNoneNeverCalls() throws IOException {
        for (int seed = 1; seed <= 4; seed++) {
            JsonNode auto = JSON.readTree(post("/v1/chat/completions", chat(",\"seed\":" + seed)).asString()).at("/choices/0");
            if (auto.get("finish_reason").asText().equals("tool_calls")) {
                JSON.readTree(auto.at("/message/tool_calls/0/function/arguments").asText());
            } else {
                assertThat(auto.at("/message/content").isTextual()).isTrue();
                assertThat(auto.at("/message/tool_calls").isMissingNode()).isTrue();
            }
            JsonNode none = JSON.readTree(post("/v1/chat/completions", chat(",\"seed\":" + seed + ",\"tool_choice\":\"none\""))
                    .asString()).at("/choices/0");
            assertThat(none.get("finish_reason").asText()).isIn("stop", "length");
            assertThat(none.at("/message/tool_calls").isMissingNode()).isTrue();
        }
    }

    @Test
    void badToolsAreA400() throws IOException {
        Response r = post("/v1/chat/completions", """
                {"model":"demo-llama","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function",
                 "function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string","format":"date"}}}}}]}""");
        r.then().statusCode(400);
        assertThat(JSON.readTree(r.asString()).at("/error/param").asText())
                .isEqualTo("tools[0].function.parameters.format");
        Response unknown = post("/v1/chat/completions", chat(",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}"));
        unknown.then().statusCode(400);
        Response toolTurn = post("/v1/chat/completions", """
                {"model":"demo-llama","messages":[{"role":"tool","content":"1"}]}""");
        toolTurn.then().statusCode(400);
        assertThat(JSON.readTree(toolTurn.asString()).at("/error/param").asText()).isEqualTo("messages[0].tool_call_id");
    }
}
