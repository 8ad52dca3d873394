package io.tessera.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The official openai npm client (7.59.0, pinned: it has no dependencies of its own), unchanged, against the running service. npm must be reachable: without it
 * this test fails rather than skips.
 */
@QuarkusTest
class OpenAiNodeClientTest extends ServiceTest {
    static final Path DIR = Path.of("target/npm-openai");

    @TestHTTPResource("/v1")
    URL v1;

    private static String run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(DIR.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        String text = new String(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("%s failed:%n%s", command, text).isZero();
        return text;
    }

    @Test
    void chatStreamingCompletionsAndModelsWorkWithTheOfficialClient() throws Exception {
        Files.createDirectories(DIR);
        Files.writeString(DIR.resolve("package.json"), "{\"name\":\"tessera-openai-check\",\"private\":true,\"type\":\"module\"}\n");
        run(List.of("npm", "install", "--no-audit", "--no-fund", "--save-exact", "openai@7.59.0"), Map.of());
        try (var script = getClass().getResourceAsStream("/openai-node/check.mjs")) {
            Files.write(DIR.resolve("check.mjs"), script.readAllBytes());
        }
        String out = run(List.of("node", "check.mjs"), Map.of("TESSERA_BASE_URL", v1.toString(), "TESSERA_API_KEY", demoKey));
        String line = out.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow(() -> new AssertionError(out));
        JsonNode r = new ObjectMapper().readTree(line);

        assertThat(r.get("models").findValuesAsText("id")).containsExactly(BASE, "legal-prompt", "research-dora", "research-lora");
        assertThat(r.at("/models/1/parent").asText()).isEqualTo(BASE);

        assertThat(r.at("/chat/content").asText()).isNotEmpty();
        assertThat(r.at("/stream/content").asText()).isEqualTo(r.at("/chat/content").asText());
        assertThat(r.at("/stream/finish").asText()).isEqualTo(r.at("/chat/finish").asText());
        assertThat(r.at("/stream/usage")).isEqualTo(r.at("/chat/usage"));

        assertThat(r.at("/completion/text").asText())
                .isEqualTo(" queue. If this queue contains more than Integer.MAX_VALUE elements, returns Integer.MAX_VALUE.");
        assertThat(r.at("/completion/finish").asText()).isEqualTo("stop");
        assertThat(r.at("/completion/usage/completion_tokens").asInt()).isEqualTo(23);

        assertThat(r.at("/parsed/finish").asText()).isEqualTo("stop");
        assertThat(r.at("/parsed/value/city").isTextual()).isTrue();
        assertThat(r.at("/parsed/value/rain").isBoolean()).isTrue();
        assertThat(r.at("/toolCall/finish").asText()).isEqualTo("tool_calls");
        assertThat(r.at("/toolCall/name").asText()).isEqualTo("get_weather");
        assertThat(r.at("/toolCall/arguments/city").isTextual()).isTrue();
        assertThat(r.at("/toolCall/arguments/rain").isBoolean()).isTrue();

        assertThat(r.at("/notFound/status").asInt()).isEqualTo(404);
        assertThat(r.at("/notFound/code").asText()).isEqualTo("model_not_found");
        // the client reads the request id from the X-Request-Id header
        assertThat(r.at("/notFound/requestId").asText()).matches("req_[0-9a-f]{32}");
        assertThat(r.at("/retrieved/id").asText()).isEqualTo("research-lora");
        assertThat(r.at("/retrieved/maxModelLen").asInt()).isEqualTo(state.host().contextLimit());
    }
}
