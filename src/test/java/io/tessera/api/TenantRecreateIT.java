package io.tessera.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import io.restassured.response.Response;
import io.tessera.adapters.Archives;
import io.tessera.api.admin.AdminApi;
import io.tessera.testing.NeedsServices;
import io.tessera.testing.Replica;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two service processes on one Postgres and no Redis, so the second hears nothing the first does, and trusts keys
 * and resolutions from its caches for 10 minutes. A tenant is deleted and created again under its name through the
 * first: its old key on the second sees nothing of the new tenant (RELIABILITY 33), whatever the caches hold.
 */
@NeedsServices
class TenantRecreateIT {
    private static final String ADMIN = "it-admin-key";
    private static final String PROMPT = "Returns the number of elements in this";
    private static Replica first;
    private static Replica second;

    @BeforeAll
    static void start() throws Exception {
        String pg = System.getenv("TESSERA_TEST_PG_URL");
        assertThat(pg).as("TESSERA_TEST_PG_URL (see .ci/services)").isNotBlank();
        // no quarkus.redis.hosts: no events between the replicas
        Map<String, String> common = Map.of("quarkus.datasource.jdbc.url", pg,
                "quarkus.datasource.username", System.getenv().getOrDefault("TESSERA_TEST_PG_USER", "tessera"),
                "tessera.security.admin-key", ADMIN, "tessera.registry.seed-dir", "",
                "tessera.store.root", "target/it-recreate-store", "tessera.scheduler.max-running", "4",
                "tessera.registry.resolve-ttl", "10m", "tessera.security.key-cache-ttl", "10m");
        Replica[] two = Replica.startTwo("recreate", common);
        first = two[0];
        second = two[1];
    }

    @AfterAll
    static void stop() throws Exception {
        Replica.closeAll(first, second);
    }

    private static Response complete(Replica r, String key, String model) {
        return r.as(key).contentType("application/json")
                .body(Map.of("model", model, "prompt", PROMPT, "max_tokens", 12, "temperature", 0, "ignore_eos", true))
                .post("/v1/completions");
    }

    private static String text(Replica r, String key, String model) {
        return complete(r, key, model).then().statusCode(200).extract().path("choices[0].text");
    }

    private static String newTenant(String name) {
        return first.as(ADMIN).contentType("application/json").body(Map.of("name", name))
                .post("/v1/admin/tenants").then().statusCode(201).extract().path("api_key");
    }

    private static void upload(String key, String name, byte[] zip) {
        first.as(key).multiPart("file", "a.zip", zip, "application/octet-stream").multiPart("name", name)
                .post("/v1/admin/adapters").then().statusCode(201);
    }

    @Test
    void aDeletedTenantsKeySeesNothingOfTheTenantCreatedAgainUnderItsName() throws Exception {
        String tenant = "recreate-" + UUID.randomUUID().toString().substring(0, 8);
        String oldKey = newTenant(tenant);
        upload(oldKey, "private", AdminApi.seedZip("research-lora"));
        String oldText = text(second, oldKey, "private");   // key and resolution now cached on the second replica
        second.as(oldKey).get("/v1/models").then().statusCode(200).body("data.id", hasItem("private"));

        first.as(ADMIN).delete("/v1/admin/tenants/" + tenant).then().statusCode(204);
        String newKey = newTenant(tenant);
        // the same name with other weights (so its text differs), and a name the old tenant never had
        Map<String, Object> files = Archives.filesOf(AdminApi.SEED.resolve("research-lora"));
        files.put("adapter_config.json", new String((byte[]) files.get("adapter_config.json"), StandardCharsets.UTF_8)
                .replace("\"lora_alpha\": 32", "\"lora_alpha\": 8").getBytes(StandardCharsets.UTF_8));
        upload(newKey, "private", Archives.zip(files));
        upload(newKey, "fresh", AdminApi.seedZip("research-lora"));
        String newText = text(second, newKey, "private");
        assertThat(newText).isNotEqualTo(oldText);

        // the worst case first: the second replica still holds the old key and the old tenant's resolution of
        // "private"; it may serve that (the old tenant's own weights, until resolve-ttl) but never the new tenant's
        Response same = complete(second, oldKey, "private");
        assertThat(same.statusCode()).isIn(200, 401, 404);
        if (same.statusCode() == 200) {
            assertThat(same.<String>path("choices[0].text")).isEqualTo(oldText);
        }
        // a name resolved afresh for the old tenant's id finds the tenant gone: the key is refused from then on
        complete(second, oldKey, "fresh").then().statusCode(401).body("error.code", equalTo("invalid_api_key"));
        second.as(oldKey).get("/v1/models").then().statusCode(401);
        complete(second, oldKey, "private").then().statusCode(401);
        complete(second, oldKey, "demo-llama").then().statusCode(401);

        // the new tenant is whole on both replicas, and its usage counts only its own requests
        assertThat(second.as(newKey).get("/v1/models").then().statusCode(200).extract().<List<String>>path("data.id"))
                .containsExactly("demo-llama", "fresh", "private");
        assertThat(text(first, newKey, "private")).isEqualTo(newText);
        assertThat(second.as(newKey).get("/v1/admin/usage").then().statusCode(200).extract().<Integer>path("data.private.requests"))
                .isEqualTo(1);
    }

    /** Without any request finding the tenant gone, the old key lists nothing of the new tenant's. */
    @Test
    void aDeletedTenantsKeyListsNothingOfTheNewTenant() throws Exception {
        String tenant = "relist-" + UUID.randomUUID().toString().substring(0, 8);
        String oldKey = newTenant(tenant);
        second.as(oldKey).get("/v1/models").then().statusCode(200);
        first.as(ADMIN).delete("/v1/admin/tenants/" + tenant).then().statusCode(204);
        String newKey = newTenant(tenant);
        upload(newKey, "secret", AdminApi.seedZip("research-lora"));
        Response models = second.as(oldKey).get("/v1/models");
        assertThat(models.statusCode()).isIn(200, 401);
        if (models.statusCode() == 200) {
            assertThat(models.<List<String>>path("data.id")).doesNotContain("secret");
        }
        assertThat(complete(second, oldKey, "secret").statusCode()).isIn(401, 404);
        second.as(oldKey).get("/v1/admin/adapters").then().statusCode(401);
    }
}
