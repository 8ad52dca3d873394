package io.tessera.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.tessera.api.admin.AdminApi;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Redis configured but down: the documented policy holds (serve, skip rate limits and usage, log). */
@QuarkusTest
@TestProfile(RedisDownTest.DeadRedis.class)
class RedisDownTest {
    public static class DeadRedis implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try (ServerSocket s = new ServerSocket(0)) {
                // a port nothing listens on once this socket closes
                return Map.of("quarkus.redis.hosts", "redis://127.0.0.1:" + s.getLocalPort());
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Test
    void servesWithoutRateLimitsAndAdminStillWorks() throws Exception {
        String name = "redisdown-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        String key = given().auth().oauth2(AdminApi.ADMIN).contentType("application/json")
                .body(Map.of("name", name, "requests_per_minute", 1)).post("/v1/admin/tenants").then().statusCode(201)
                .extract().path("api_key");
        AdminApi.upload(key, null, "research-lora", AdminApi.seedZip("research-lora"), "r.zip", null).then().statusCode(201);
        String greedy = RegistryInferenceTest.reference("research-lora");
        for (int i = 0; i < 3; i++) {
            // over the limit of 1 per minute, but the limit cannot be counted: served
            org.assertj.core.api.Assertions.assertThat(RegistryInferenceTest.text(key, "research-lora")).isEqualTo(greedy);
        }
        given().auth().oauth2(key).get("/v1/admin/usage").then().statusCode(503)
                .body("error.type", equalTo("service_unavailable"));
    }
}
