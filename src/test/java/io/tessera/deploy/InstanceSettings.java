package io.tessera.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a service instance of the integration tests needs besides its port and model: the Postgres and Redis that
 * .ci/services starts (TESSERA_TEST_PG_URL, TESSERA_TEST_REDIS_URL; .ci/run exports them), shared by the instances
 * as by replicas in a cluster, a filesystem blob store they share too, and an admin key to make a tenant whose API
 * key the requests carry.
 */
final class InstanceSettings {
    static final String ADMIN_KEY = "drill-admin-key";
    private static volatile String apiKey;

    private InstanceSettings() {
    }

    /** Environment variables (the settings' Quarkus names) for one instance working in {@code work}. */
    static Map<String, String> environment(Path work) {
        String pg = System.getenv("TESSERA_TEST_PG_URL");
        String redis = System.getenv("TESSERA_TEST_REDIS_URL");
        assertThat(pg).as("TESSERA_TEST_PG_URL (start Postgres and Redis with: eval \"$(.ci/services start)\")")
                .isNotBlank();
        assertThat(redis).as("TESSERA_TEST_REDIS_URL (see .ci/services)").isNotBlank();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("QUARKUS_DATASOURCE_JDBC_URL", pg);
        env.put("QUARKUS_DATASOURCE_USERNAME", System.getenv().getOrDefault("TESSERA_TEST_PG_USER", "tessera"));
        env.put("QUARKUS_REDIS_HOSTS", redis);
        env.put("TESSERA_SECURITY_ADMIN_KEY", ADMIN_KEY);
        // no demo tenant: the drill makes its own (a relative seed directory would not exist under work anyway)
        env.put("TESSERA_REGISTRY_SEED_DIR", work.resolve("no-seed").toString());
        env.put("TESSERA_STORE_ROOT", work.resolveSibling("store").toString());
        env.put("TESSERA_REGISTRY_WORK_DIR", work.resolve("registry-work").toString());
        return env;
    }

    /** Makes a tenant through the admin API of the instance at {@code base} and keeps its API key for the requests. */
    static void createTenant(String base) throws Exception {
        String body = "{\"name\":\"drill-" + System.currentTimeMillis() + "\"}";
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/v1/admin/tenants"))
                .timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + ADMIN_KEY)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("tenant creation: " + r.body()).isEqualTo(201);
        apiKey = new ObjectMapper().readTree(r.body()).path("api_key").asText();
        assertThat(apiKey).as("the tenant's API key").isNotBlank();
    }

    /** Adds the tenant's API key, once there is one. */
    static void authorize(HttpRequest.Builder request) {
        if (apiKey != null) {
            request.header("Authorization", "Bearer " + apiKey);
        }
    }
}
