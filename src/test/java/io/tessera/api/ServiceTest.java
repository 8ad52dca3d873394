package io.tessera.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.restassured.RestAssured;
import io.restassured.builder.RequestSpecBuilder;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import io.tessera.api.admin.AdminApi;
import io.tessera.service.ServingState;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * What the @QuarkusTest classes share: the model is loaded before each test, every request carries a key of the
 * demo tenant (which holds the seed adapters), and helpers for JSON and SSE.
 */
abstract class ServiceTest {
    static final String BASE = "demo-llama";
    /** A key of the demo tenant, issued once per test run with the admin key. */
    static String demoKey;

    @Inject
    ServingState state;

    @BeforeEach
    void awaitReady() {
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(100))
                .until(() -> state.phase() != ServingState.Phase.LOADING);
        assertThat(state.phase()).isEqualTo(ServingState.Phase.READY);
        if (demoKey == null) {
            demoKey = given().auth().oauth2("test-admin-key").post("/v1/admin/tenants/demo/keys").then().statusCode(201)
                    .extract().path("api_key");
        }
        RestAssured.requestSpecification = new RequestSpecBuilder().addHeader("Authorization", "Bearer " + demoKey).build();
    }

    @AfterEach
    void forgetKey() {
        RestAssured.requestSpecification = null;
    }

    /** A request to the management interface (health, metrics): its own port, not the API's. */
    static RequestSpecification management() {
        return AdminApi.management();
    }

    static Response post(String path, String json) {
        return given().contentType("application/json").body(json).when().post(path);
    }

    /** The data payloads of a server-sent event body, [DONE] included. */
    static List<String> events(String body) {
        List<String> out = new ArrayList<>();
        for (String event : body.split("\n\n")) {
            if (event.startsWith("data: ")) {
                out.add(event.substring("data: ".length()));
            }
        }
        return out;
    }
}
