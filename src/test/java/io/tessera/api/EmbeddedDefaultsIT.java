package io.tessera.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.hasItems;

import io.tessera.testing.Replica;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * No datasource, no Redis, no admin key configured: the service starts an embedded Postgres, keeps blobs under the
 * store root, creates the demo tenant with the seed adapters and prints its key and a bootstrap admin key.
 */
class EmbeddedDefaultsIT {

    @Test
    void firstStartOnEmbeddedDefaults() throws Exception {
        Path data = Path.of("target", "it-embedded");
        if (Files.exists(data)) {
            try (Stream<Path> s = Files.walk(data)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        try (Replica r = Replica.start("embedded", Map.of("tessera.store.embedded-postgres-dir", data.resolve("postgres").toString(),
                "tessera.store.root", data.resolve("store").toString(), "tessera.registry.work-dir", data.resolve("work").toString(),
                "tessera.scheduler.max-running", "4"), Duration.ofMinutes(3))) {
            String log = r.log();
            String admin = find(log, "bootstrap admin key for this run: (tsk_\\S+)");
            String demo = find(log, "its API key \\(shown once\\): (tsk_\\S+)");
            assertThat(log).contains("embedded Postgres on port");
            given().baseUri(r.url()).auth().oauth2(admin).get("/v1/admin/tenants").then().statusCode(200);
            given().baseUri(r.url()).auth().oauth2(demo).get("/v1/models").then().statusCode(200)
                    .body("data.id", hasItems("demo-llama", "research-lora", "research-dora", "legal-prompt"));
            given().baseUri(r.url()).auth().oauth2(demo).contentType("application/json")
                    .body(Map.of("model", "research-lora", "prompt", "Returns the number of elements in this", "max_tokens", 4,
                            "temperature", 0))
                    .post("/v1/completions").then().statusCode(200);
            assertThat(data.resolve("store/blobs/sha256")).isDirectory();
            // the API reference is served in production too (quarkus.swagger-ui.always-include)
            given().baseUri(r.url()).get("/q/swagger-ui/").then().statusCode(200);
        }
    }

    private static String find(String log, String regex) {
        Matcher m = Pattern.compile(regex).matcher(log);
        assertThat(m.find()).as("log line " + regex).isTrue();
        return m.group(1);
    }
}
