package io.tessera.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Streams that the client drops, and streams running while the server drains for shutdown. */
@QuarkusTest
class StreamLifecycleApiTest extends ServiceTest {
    static final String LONG_STREAM = """
            {"model":"demo-llama","prompt":"Returns the number","max_tokens":200,"temperature":0,"ignore_eos":true,"stream":true}""";

    @TestHTTPResource("/")
    URL root;

    /** A streaming request on a raw connection, so the test can drop it mid-stream. */
    private Socket openStream(String body) throws IOException {
        Socket s = new Socket(root.getHost(), root.getPort());
        byte[] json = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = s.getOutputStream();
        out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + demoKey
                + "\r\nContent-Type: application/json\r\nContent-Length: "
                + json.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(json);
        out.flush();
        return s;
    }

    /** Reads until the first data line; returns the reader positioned after it. */
    private static BufferedReader untilFirstEvent(Socket s) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.startsWith("data: ")) {
                return in;
            }
        }
        throw new IOException("stream ended before its first event");
    }

    private void awaitRunning(int n) throws InterruptedException {
        for (int i = 0; i < 200 && state.scheduler().running() != n; i++) {
            Thread.sleep(10);
        }
        assertThat(state.scheduler().running()).isEqualTo(n);
    }

    @Test
    void aClientThatDisconnectsCancelsItsSequenceAndFreesItsSlot() throws Exception {
        try (Socket s = openStream(LONG_STREAM)) {
            untilFirstEvent(s);
            awaitRunning(1);
            for (int i = 0; i < 100 && state.scheduler().kvBytesInUse() == 0; i++) {
                Thread.sleep(10);   // published by the loop once per iteration
            }
            assertThat(state.scheduler().kvBytesInUse()).isPositive();
        }
        awaitRunning(0);
        assertThat(state.scheduler().kvBytesInUse()).isZero();
        assertThat(given().get("/q/metrics").asString())
                .contains("tessera_running_sequences{model=\"demo-llama\"} 0.0")
                .containsPattern("tessera_requests_total\\{adapter=\"none\",model=\"demo-llama\",outcome=\"cancelled\"} [1-9]");
    }

    @Test
    void drainingTakesReadinessDownRefusesNewRequestsAndLetsRunningStreamsFinish() throws Exception {
        given().get("/q/health/ready").then().statusCode(200);
        try (Socket s = openStream(LONG_STREAM)) {
            BufferedReader in = untilFirstEvent(s);
            state.drain();
            try {
                given().get("/q/health/ready").then().statusCode(503);
                given().get("/q/health/live").then().statusCode(200);
                post("/v1/chat/completions", "{\"model\":\"demo-llama\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")
                        .then().statusCode(503);
                String last = null;
                boolean length = false;
                for (String line = in.readLine(); line != null && !"data: [DONE]".equals(last); line = in.readLine()) {
                    if (line.startsWith("data: ")) {
                        last = line;
                        length |= line.contains("\"finish_reason\":\"length\"");
                    }
                }
                assertThat(last).isEqualTo("data: [DONE]");
                assertThat(length).isTrue();
            } finally {
                state.resume();
            }
        }
        awaitRunning(0);
        given().get("/q/health/ready").then().statusCode(200);
    }
}
