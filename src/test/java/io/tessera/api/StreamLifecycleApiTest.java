package io.tessera.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.tessera.testing.LogRecords;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.logging.Level;
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
        return openStream(demoKey, body);
    }

    private Socket openStream(String key, String body) throws IOException {
        Socket s = new Socket(root.getHost(), root.getPort());
        byte[] json = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = s.getOutputStream();
        out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + key
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

    private void awaitRunning(int n) {
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10)).until(() -> state.scheduler().running() == n);
    }

    @Test
    void aClientThatDisconnectsCancelsItsSequenceAndFreesItsSlot() throws Exception {
        try (LogRecords logs = new LogRecords()) {
            try (Socket s = openStream(LONG_STREAM)) {
                untilFirstEvent(s);
                awaitRunning(1);
                // published by the loop once per iteration
                await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10))
                        .until(() -> state.scheduler().kvBytesInUse() > 0);
            }
            awaitRunning(0);
            // the write that races with the close, as RESTEasy's SSE handler reports it (when the race is lost)
            java.util.logging.Logger.getLogger("org.jboss.resteasy.reactive.server.handlers.PublisherResponseHandler")
                    .log(Level.SEVERE, "Exception in SSE server handling, impossible to send it to client",
                            new IOException("Broken pipe"));
            // and as Netty reports failing the same write's promise a second time
            java.util.logging.Logger.getLogger("io.netty.channel.AbstractChannelHandlerContext").log(Level.WARNING,
                    "Failed to mark a promise as failure because it has failed already: {0}, unnotified cause: {1}",
                    new Object[] {"DefaultChannelPromise(failure: io.netty.channel.StacklessClosedChannelException)",
                        "io.netty.util.IllegalReferenceCountException: refCnt: 0, decrement: 1"});
            // one INFO line, no error and no stack trace
            assertThat(logs.records()).filteredOn(r -> r.getMessage() != null && String.valueOf(r.getMessage()).contains("went away"))
                    .singleElement().satisfies(r -> assertThat(r.getLevel()).isEqualTo(Level.INFO));
            assertThat(logs.atLeast(Level.WARNING)).isEmpty();
            assertThat(logs.records()).allSatisfy(r -> assertThat(r.getThrown()).isNull());
        }
        assertThat(state.scheduler().kvBytesInUse()).isZero();
        assertThat(management().get("/q/metrics").asString())
                .contains("tessera_running_sequences{model=\"demo-llama\"} 0.0")
                .containsPattern("tessera_requests_total\\{adapter=\"none\",model=\"demo-llama\",outcome=\"cancelled\"} [1-9]");
    }

    @Test
    void aCancelledStreamIsBilledItsPromptAndTheTokensItProduced() throws Exception {
        String key = io.tessera.api.admin.AdminApi.newTenant("billed")[1];
        String prompt = "[" + "300,".repeat(39) + "300]";   // 40 prompt tokens, two prefill chunks
        int received = 0;
        try (Socket s = openStream(key, "{\"model\":\"demo-llama\",\"prompt\":" + prompt
                + ",\"max_tokens\":200,\"temperature\":0,\"ignore_eos\":true,\"stream\":true}")) {
            BufferedReader in = untilFirstEvent(s);
            received = 1;
            for (String line = in.readLine(); line != null && received < 5; line = in.readLine()) {
                received += line.startsWith("data: ") ? 1 : 0;   // between events: blank lines and chunk sizes
            }
            assertThat(received).isEqualTo(5);
        }
        awaitRunning(0);
        // charged in the background as the tokens were consumed: wait until the charges are in
        long seen = received;
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(25)).untilAsserted(() -> {
            assertThat(used(key, "requests")).isEqualTo(1);
            assertThat(used(key, "prompt_tokens")).isEqualTo(40);
            assertThat(used(key, "completion_tokens")).isBetween(seen, 199L);
        });
    }

    /** One number of the tenant's usage of the base model; 0 before any. */
    private static long used(String key, String field) {
        Number n = given().auth().oauth2(key).get("/v1/admin/usage").then().statusCode(200)
                .extract().path("data.'demo-llama'." + field);
        return n == null ? 0 : n.longValue();
    }

    @Test
    void drainingTakesReadinessDownRefusesNewRequestsAndLetsRunningStreamsFinish() throws Exception {
        management().get("/q/health/ready").then().statusCode(200);
        try (Socket s = openStream(LONG_STREAM)) {
            BufferedReader in = untilFirstEvent(s);
            state.drain();
            try {
                management().get("/q/health/ready").then().statusCode(503);
                management().get("/q/health/live").then().statusCode(200);
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
        management().get("/q/health/ready").then().statusCode(200);
    }
}
