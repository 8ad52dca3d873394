package io.tessera.cli;

import static io.restassured.RestAssured.given;
import static io.tessera.api.admin.AdminApi.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.http.TestHTTPResourceManager;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.tessera.adapters.Archives;
import io.tessera.api.admin.AdminApi;
import io.tessera.engine.ModelConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bench serve --synthetic-adapters against the real service: it uploads its fleet through the admin API, runs both
 * passes, prints the report with every request's tier (the X-Tessera-Adapter-Tier header) and deletes its tenant.
 */
@QuarkusTest
class FleetBenchServiceTest {
    private static final String PROMPT = "Returns the number of elements in this";

    @Test
    void theBenchReportsBothPassesByTierAndRemovesItsTenant() {
        AdminApi.awaitReady();
        String url = TestHTTPResourceManager.getUri();
        String[] out = new String[1];
        int status = run(out, "bench", "serve", "--url", url, "--metrics-url", TestHTTPResourceManager.getManagementUri()
                + "/metrics", "--api-key", ADMIN, "--synthetic-adapters", "8", "--zipf", "1.0", "--concurrency", "4",
                "--requests", "16", "--max-tokens", "4", "--warmup", "0");
        List<String> lines = out[0].lines().toList();
        assertThat(status).as(out[0]).isZero();
        assertThat(lines.get(0)).startsWith("bench serve: url=" + url).contains("adapters=8");
        assertThat(lines).anyMatch(l -> l.startsWith("| base only ") && l.contains("|       16 |"))
                .anyMatch(l -> l.startsWith("| adapters (Zipf 1.0) ") && l.contains("|       16 |"))
                .anyMatch(l -> l.startsWith("|   adapter in engine "))
                .anyMatch(l -> l.startsWith("|   adapter in host "))
                .anyMatch(l -> l.startsWith("|   adapter in store "))
                .anyMatch(l -> l.matches("engine tier hit rate = [01]\\.\\d{3} \\(\\d+ of 16\\)"))
                .anyMatch(l -> l.matches("host tier hit rate = [01]\\.\\d{3} \\(\\d+ of \\d+ engine misses\\)"))
                .anyMatch(l -> l.matches("loads = \\d+, evictions = \\d+ \\(engine tier\\); host tier: .*"));
        // every adapter request was served from some tier, and said which
        int[] perTier = lines.stream().filter(l -> l.startsWith("|   adapter in ")).mapToInt(l -> Integer.parseInt(l.split("\\|")[2].trim())).toArray();
        assertThat(perTier[0] + perTier[1] + perTier[2]).isEqualTo(16);
        assertThat(lines.get(lines.size() - 2)).isEqualTo("errors = 0");
        assertThat(lines.get(lines.size() - 1)).matches("ratio adapters/base = \\d+\\.\\d{3}");
        String tenant = lines.get(0).replaceAll(".* tenant=(\\S+) .*", "$1");
        List<String> tenants = given().auth().oauth2(ADMIN).get("/v1/admin/tenants").then().statusCode(200).extract().path("data.name");
        assertThat(tenant).startsWith("bench-");
        assertThat(tenants).doesNotContain(tenant).noneMatch(t -> t.startsWith("bench-"));
    }

    @Test
    void aResponseSaysWhichTierHeldItsAdapter(@TempDir Path dir) throws IOException {
        String[] tenant = AdminApi.newTenant("tier");
        // weights of their own (no other test's bytes), not active: nothing prefetches them before the first request
        Path lora = RandomAdapters.attentionLora(dir.resolve("a"), ModelConfig.load(Path.of("models/demo-llama")), 8, false,
                new Random(System.nanoTime()));
        AdminApi.upload(ADMIN, tenant[0], "tiered", Archives.zip(Archives.filesOf(lora)), "a.zip", "false").then().statusCode(201);
        assertThat(complete(tenant[1], "tiered@1").header("X-Tessera-Adapter-Tier")).isEqualTo("store");
        assertThat(complete(tenant[1], "tiered@1").header("X-Tessera-Adapter-Tier")).isEqualTo("engine");
        assertThat(complete(tenant[1], "demo-llama").header("X-Tessera-Adapter-Tier")).as("the base model").isNull();
        given().auth().oauth2(ADMIN).delete("/v1/admin/tenants/" + tenant[0]).then().statusCode(204);
    }

    private static Response complete(String key, String model) {
        Response r = given().auth().oauth2(key).contentType("application/json")
                .body(Map.of("model", model, "prompt", PROMPT, "max_tokens", 2, "temperature", 0)).post("/v1/completions");
        r.then().statusCode(200);
        return r;
    }

    private static int run(String[] out, String... argv) {
        PrintStream saved = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream captured = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            System.setOut(captured);
            return Main.run(argv);
        } finally {
            System.setOut(saved);
            out[0] = bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
