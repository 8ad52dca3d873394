package io.tessera.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.adapters.Archives;
import io.tessera.api.admin.AdminApi;
import io.tessera.testing.NeedsServices;
import io.tessera.testing.Replica;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two service processes on one Postgres and one Redis: an adapter uploaded or activated through the first is what
 * the second serves within a second (its cached resolution is dropped by the Redis event, not by expiry).
 */
@NeedsServices
class ReplicasIT {
    private static final String ADMIN = "it-admin-key";
    private static Replica first;
    private static Replica second;

    @BeforeAll
    static void start() throws Exception {
        String pg = System.getenv("TESSERA_TEST_PG_URL");
        String redis = System.getenv("TESSERA_TEST_REDIS_URL");
        assertThat(pg).as("TESSERA_TEST_PG_URL (see .ci/services)").isNotBlank();
        assertThat(redis).as("TESSERA_TEST_REDIS_URL (see .ci/services)").isNotBlank();
        Map<String, String> common = Map.of("quarkus.datasource.jdbc.url", pg,
                "quarkus.datasource.username", System.getenv().getOrDefault("TESSERA_TEST_PG_USER", "tessera"),
                "quarkus.redis.hosts", redis, "tessera.security.admin-key", ADMIN, "tessera.registry.seed-dir", "",
                "tessera.store.root", "target/it-store", "tessera.scheduler.max-running", "4",
                // far longer than the 1 s asked for: only the Redis event can make the second replica switch in time
                "tessera.registry.resolve-ttl", "10m", "tessera.security.key-cache-ttl", "10m");
        Replica[] two = Replica.startTwo("replica", common);
        first = two[0];
        second = two[1];
    }

    @AfterAll
    static void stop() throws Exception {
        Replica.closeAll(first, second);
    }

    private static String text(Replica r, String key) {
        return r.as(key).contentType("application/json")
                .body(Map.of("model", "research-lora", "prompt", "Returns the number of elements in this", "max_tokens", 12,
                        "temperature", 0, "ignore_eos", true))
                .post("/v1/completions").then().statusCode(200).extract().path("choices[0].text");
    }

    private static void upload(String key, byte[] zip) {
        first.as(key).multiPart("file", "a.zip", zip, "application/octet-stream").multiPart("name", "research-lora")
                .post("/v1/admin/adapters").then().statusCode(201);
    }

    @Test
    void secondReplicaServesNewVersionsWithinASecond() throws Exception {
        String key = first.as(ADMIN).contentType("application/json").body(Map.of("name", "replicas-" + java.util.UUID.randomUUID().toString().substring(0, 8)))
                .post("/v1/admin/tenants").then().statusCode(201).extract().path("api_key");
        upload(key, AdminApi.seedZip("research-lora"));
        String v1 = text(second, key);
        assertThat(text(first, key)).isEqualTo(v1);

        Map<String, Object> files = Archives.filesOf(AdminApi.SEED.resolve("research-lora"));
        files.put("adapter_config.json", new String((byte[]) files.get("adapter_config.json"), StandardCharsets.UTF_8)
                .replace("\"lora_alpha\": 32", "\"lora_alpha\": 8").getBytes(StandardCharsets.UTF_8));
        upload(key, Archives.zip(files));
        long uploaded = System.nanoTime();
        String v2 = text(first, key);
        assertThat(v2).isNotEqualTo(v1);
        sleepUntil(uploaded + 1_000_000_000L);
        assertThat(text(second, key)).as("second replica 1 s after the upload").isEqualTo(v2);

        first.as(key).contentType("application/json").body(Map.of("version", 1))
                .post("/v1/admin/adapters/research-lora/activate").then().statusCode(200);
        long activated = System.nanoTime();
        sleepUntil(activated + 1_000_000_000L);
        assertThat(text(second, key)).as("second replica 1 s after activating v1").isEqualTo(v1);

        first.as(key).delete("/v1/admin/adapters/research-lora").then().statusCode(204);
        long deleted = System.nanoTime();
        sleepUntil(deleted + 1_000_000_000L);
        second.as(key).contentType("application/json").body(Map.of("model", "research-lora", "prompt", "x"))
                .post("/v1/completions").then().statusCode(404);
        assertThat(List.of(first.url(), second.url())).doesNotHaveDuplicates();
    }

    @Test
    void aKeyRevokedThroughOneReplicaIsRefusedByTheOtherWithinASecond() throws Exception {
        String tenant = "revoke-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        var created = first.as(ADMIN).contentType("application/json").body(Map.of("name", tenant))
                .post("/v1/admin/tenants").then().statusCode(201).extract().jsonPath();
        String key = created.getString("api_key");
        second.as(key).get("/v1/models").then().statusCode(200);   // trusted from its key cache from now on
        first.as(ADMIN).delete("/v1/admin/tenants/" + tenant + "/keys/" + created.getLong("key_id")).then().statusCode(204);
        long revoked = System.nanoTime();
        // the promise is "within a second": the second replica is asked once that second is over, not polled before
        sleepUntil(revoked + 1_000_000_000L);
        second.as(key).get("/v1/models").then().statusCode(401);
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long left = nanoTime - System.nanoTime();
        if (left > 0) {
            Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
        }
    }
}
