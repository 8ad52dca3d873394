package io.tessera.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.restassured.response.Response;
import io.tessera.service.ServingState;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;

/** What the @QuarkusTest classes share: the model is loaded before each test, and helpers for JSON and SSE. */
abstract class ServiceTest {
    static final String BASE = "demo-llama";

    @Inject
    ServingState state;

    @BeforeEach
    void awaitReady() throws InterruptedException {
        for (int i = 0; i < 600 && state.phase() == ServingState.Phase.LOADING; i++) {
            Thread.sleep(100);
        }
        assertThat(state.phase()).isEqualTo(ServingState.Phase.READY);
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
