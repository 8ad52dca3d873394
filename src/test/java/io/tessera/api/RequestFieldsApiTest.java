package io.tessera.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.sampling.SamplingParams;
import io.tessera.scheduler.Generation;
import io.tessera.scheduler.GenerationListener;
import io.tessera.scheduler.GenerationRequest;
import io.tessera.scheduler.Scheduler;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Nothing a client sends is silently ignored: a field Tessera does not implement is a 400 naming it, and the accepted
 * extensions (top_k, min_p, repetition_penalty) reach the sampler exactly, checked against in-process runs.
 */
@QuarkusTest
class RequestFieldsApiTest extends ServiceTest {
    private static final String COMPLETION = "{\"model\":\"demo-llama\",\"prompt\":\"Returns\",\"max_tokens\":4";
    private static final String CHAT = "{\"model\":\"demo-llama\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":4";

    private static JsonNode refused(String path, String body, String param) throws IOException {
        JsonNode e = ErrorsApiTest.error(post(path, body), 400);
        assertThat(e.get("param").asText()).as(body).isEqualTo(param);
        assertThat(e.get("code").asText()).isEqualTo("unsupported_field");
        return e;
    }

    @Test
    void fieldsTesseraDoesNotImplementAre400NamingThem() throws IOException {
        for (String path : RequestSizeLimit.PATHS) {
            String body = path.contains("chat") ? CHAT : COMPLETION;
            assertThat(refused(path, body + ",\"max_token\":5}", "max_token").get("message").asText())
                    .contains("\"max_token\"").contains("/q/openapi");
            assertThat(refused(path, body + ",\"guided_json\":{\"type\":\"object\"}}", "guided_json").get("message").asText())
                    .contains("response_format");
            refused(path, body + ",\"parallel_tool_calls\":true}", "parallel_tool_calls");
            refused(path, body + ",\"store\":true}", "store");
            assertThat(refused(path, body + ",\"adapter_id\":\"research-lora\"}", "adapter_id").get("message").asText())
                    .contains("model");
            refused(path, body + ",\"stream\":true,\"stream_options\":{\"include_usage\":true,\"continuous_usage_stats\":true}}",
                    "stream_options.continuous_usage_stats");
            refused(path, body + ",\"attention\":{\"type\":\"lm-infinite\",\"window\":8}}", "attention.window");
        }
        // tools belong to chat: a completion naming them is told where they are taken
        assertThat(refused("/v1/completions", COMPLETION + ",\"tool_choice\":\"none\"}", "tool_choice").get("message").asText())
                .contains("/v1/chat/completions");
        refused("/v1/chat/completions", "{\"model\":\"demo-llama\",\"messages\":[{\"role\":\"user\",\"content\":\"x\","
                + "\"audio\":{}}]}", "messages[0].audio");
        JsonNode part = ErrorsApiTest.error(post("/v1/chat/completions", "{\"model\":\"demo-llama\",\"messages\":[{\"role\":"
                + "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\",\"cache_control\":{\"type\":\"ephemeral\"}}]}]}"), 400);
        assertThat(part.get("param").asText()).isEqualTo("messages[0].content[0].cache_control");
    }

    @Test
    void anUnknownFieldSetToNullAsksForNothing() {
        post("/v1/completions", COMPLETION + ",\"tool_choice\":null,\"user\":\"u-1\"}").then().statusCode(200);
        post("/v1/chat/completions", "{\"model\":\"demo-llama\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"x\",\"refusal\":null}]}").then().statusCode(200);
    }

    /** The text the scheduler generates in-process for these parameters, bypassing HTTP. */
    private String inProcess(String prompt, SamplingParams params) throws Exception {
        int[] ids = state.host().tokenizer().encode(prompt);
        StringBuilder text = new StringBuilder();
        GenerationListener.Completion c = new GenerationListener.Completion() {
            @Override
            public void onToken(Generation.Token token) {
                text.append(token.text());
            }
        };
        try (Scheduler.Place place = state.scheduler().reserve()) {
            place.submit(new GenerationRequest("demo", BASE, null, ids, params, AttentionPolicy.FULL), c);
        }
        c.done.get(Duration.ofMinutes(1).toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        return text.toString();
    }

    private static String completion(String extra) throws IOException {
        String body = "{\"model\":\"demo-llama\",\"prompt\":\"" + CompletionsApiTest.PROMPT + "\",\"max_tokens\":24" + extra + "}";
        return ErrorsApiTest.JSON.readTree(post("/v1/completions", body).then().statusCode(200).extract().asString())
                .at("/choices/0/text").asText();
    }

    @Test
    void vllmSamplingExtensionsReachTheSampler() throws Exception {
        String prompt = CompletionsApiTest.PROMPT;
        String greedy = completion(",\"temperature\":0");
        // top_k 1 is argmax whatever the temperature
        assertThat(completion(",\"temperature\":1.5,\"top_k\":1,\"seed\":7")).isEqualTo(greedy);
        // a repetition penalty changes the greedy text, exactly as the sampler does in-process
        String penalized = completion(",\"temperature\":0,\"repetition_penalty\":1.5");
        assertThat(penalized).isNotEqualTo(greedy)
                .isEqualTo(inProcess(prompt, SamplingParams.builder().temperature(0f).maxTokens(24).repetitionPenalty(1.5f).build()));
        // seeded draws: the same text as in-process with the same top_k and min_p, and a min_p of 1 leaves the argmax
        String sampled = completion(",\"temperature\":1,\"seed\":11,\"top_k\":8,\"min_p\":0.05");
        assertThat(sampled).isEqualTo(inProcess(prompt, SamplingParams.builder().temperature(1f).seed(11L).maxTokens(24)
                .topK(8).minP(0.05f).build()));
        assertThat(completion(",\"temperature\":1,\"seed\":11,\"min_p\":1")).isEqualTo(greedy);
        // vLLM's -1 turns top_k off, as 0 does
        assertThat(completion(",\"temperature\":1,\"seed\":3,\"top_k\":-1")).isEqualTo(completion(",\"temperature\":1,\"seed\":3"));
    }

    @Test
    void extensionValuesOutOfBoundsAre400NamingThem() throws IOException {
        String[][] cases = {{"top_k", "-2"}, {"top_k", "2147483648"}, {"min_p", "1.5"}, {"min_p", "-0.1"},
            {"repetition_penalty", "0"}, {"repetition_penalty", "1e39"}, {"top_k", "1.5"}, {"min_p", "\"0.1\""}};
        for (String[] c : cases) {
            JsonNode e = ErrorsApiTest.error(post("/v1/chat/completions", CHAT + ",\"" + c[0] + "\":" + c[1] + "}"), 400);
            assertThat(e.get("param").asText()).as(c[0] + " " + c[1]).isEqualTo(c[0]);
        }
    }
}
