package io.tessera.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.hasItems;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.testing.Replica;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * README.md's quick start, as written: no datasource, no Redis, no admin key configured, started from another
 * directory with -D options after `serve`. The service starts an embedded Postgres, keeps blobs under the store root,
 * creates the demo tenant with the seed adapters and ends its start with one banner holding the URL, the demo key
 * and a bootstrap admin key, with no embedded-Postgres or health-check chatter; then the README's curl commands run
 * through bash with those keys.
 */
class EmbeddedDefaultsIT {
    private static final String START = "<!-- quick start:";
    private static final String END = "<!-- end of the quick start -->";

    @Test
    void theReadmeQuickStartWorksAsWritten() throws Exception {
        Path data = Path.of("target", "it-embedded").toAbsolutePath();
        if (Files.exists(data)) {
            try (Stream<Path> s = Files.walk(data)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        Path elsewhere = Files.createDirectories(data.resolve("cwd"));
        List<String> commands = quickStart();
        assertThat(commands.get(0)).as("the quick start builds and serves").endsWith("&& bin/tessera serve");
        try (Replica r = Replica.startFrom(elsewhere, "embedded", Map.of(
                "tessera.store.embedded-postgres-dir", data.resolve("postgres").toString(),
                "tessera.store.root", data.resolve("store").toString(), "tessera.registry.work-dir", data.resolve("work").toString(),
                "tessera.scheduler.max-running", "4"), Duration.ofMinutes(3))) {
            String log = r.log();
            String banner = find(log, "(Tessera is ready: http://localhost:" + r.port() + " serves demo-llama.*)");
            String demo = find(log, "demo tenant's API key \\(shown this once[^)]*\\): (tsk_\\S+)");
            String admin = find(log, "admin key for this run \\([^)]*\\): (tsk_\\S+)");
            assertThat(banner).contains("/q/health");
            assertThat(log).contains("web console: http://localhost:" + r.port() + "/console");
            given().baseUri(r.url()).redirects().follow(true).get("/console").then().statusCode(200);
            assertThat(log).as("quiet at INFO").doesNotContain("[io.zonky").doesNotContain("SRHCK01001")
                    .doesNotContain("[org.flywaydb");
            assertThat(log.split("Failed to detect GPU count", -1).length - 1).as("the CUDA probe warns at most once")
                    .isLessThanOrEqualTo(1);
            assertThat(log.indexOf("loading model models/demo-llama")).as("a line starts the load").isGreaterThanOrEqualTo(0)
                    .isLessThan(log.indexOf("model demo-llama loaded from"));
            assertThat(data.resolve("store/blobs/sha256")).isDirectory();
            // the API reference is served in production too (quarkus.swagger-ui.always-include)
            given().baseUri(r.url()).get("/q/swagger-ui/").then().statusCode(200);
            assertThat(elsewhere.resolve("data")).as("nothing written in the current directory").doesNotExist();

            Map<String, String> env = Map.of("TESSERA_API_KEY", demo, "TESSERA_ADMIN_KEY", admin);
            List<JsonNode> answers = new ArrayList<>();
            for (String command : commands.subList(1, commands.size())) {
                if (command.startsWith("export ")) {
                    assertThat(env).as(command).containsKey(command.substring(7, command.indexOf('=')));
                    continue;
                }
                answers.add(bash(command.replace("localhost:8080", "127.0.0.1:" + r.port()), env));
            }
            assertThat(answers).hasSize(2);
            assertThat(answers.get(0).path("object").asText()).as(answers.get(0).toString()).isEqualTo("text_completion");
            String issued = answers.get(1).path("api_key").asText();
            assertThat(issued).as(answers.get(1).toString()).startsWith("tsk_");
            given().baseUri(r.url()).auth().oauth2(issued).get("/v1/models").then().statusCode(200)
                    .body("data.id", hasItems("demo-llama", "research-lora", "research-dora", "legal-prompt"));
        }
    }

    /** The commands of README.md's quick start: its indented lines, continuations joined. */
    static List<String> quickStart() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        int from = readme.indexOf(START);
        int to = readme.indexOf(END);
        assertThat(from).as("README.md marks its quick start").isGreaterThanOrEqualTo(0).isLessThan(to);
        List<String> commands = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : readme.substring(from, to).split("\n")) {
            if (!line.startsWith("    ")) {
                continue;
            }
            String text = line.strip();
            if (text.endsWith("\\")) {
                current.append(text, 0, text.length() - 1);
                continue;
            }
            commands.add(current.append(text).toString());
            current.setLength(0);
        }
        return commands;
    }

    private static JsonNode bash(String command, Map<String, String> env) throws IOException, InterruptedException {
        // curl's progress meter goes to stderr: the answer alone is read
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "set -euo pipefail; " + command)
                .redirectError(ProcessBuilder.Redirect.appendTo(Path.of("target", "quick-start.stderr").toFile()));
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).as(command).isTrue();
        assertThat(p.exitValue()).as(command + "\n" + out).isZero();
        JsonNode json = new ObjectMapper().readTree(out);
        assertThat(json.has("error")).as(command + "\n" + out).isFalse();
        return json;
    }

    private static String find(String log, String regex) {
        Matcher m = Pattern.compile(regex).matcher(log);
        assertThat(m.find()).as("log line " + regex + " in:\n" + log).isTrue();
        return m.group(1);
    }
}
