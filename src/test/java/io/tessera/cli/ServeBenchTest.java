package io.tessera.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * bench serve sends --api-key as the bearer key of every request, and any HTTP error (the model list or a
 * completion) ends the run with status 1 and one line naming it. The server is a stand-in on loopback that answers
 * as Tessera does for a bad key or a full queue; the bare engine part runs for real on the demo model.
 */
class ServeBenchTest {
    private HttpServer server;
    private final List<String> keys = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/models", x -> {
            keys.add(String.valueOf(x.getRequestHeaders().getFirst("Authorization")));
            if ("Bearer good-key".equals(x.getRequestHeaders().getFirst("Authorization"))) {
                answer(x, 200, "{\"object\":\"list\",\"data\":[{\"id\":\"demo-llama\"}]}");
            } else {
                answer(x, 401, "{\"error\":{\"message\":\"invalid API key\",\"type\":\"authentication_error\"}}");
            }
        });
        server.createContext("/v1/completions", x -> {
            keys.add(String.valueOf(x.getRequestHeaders().getFirst("Authorization")));
            x.getRequestBody().readAllBytes();
            answer(x, 429, "{\"error\":{\"message\":\"queue full\",\"type\":\"rate_limit_error\",\"code\":\"queue_full\"}}");
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private static void answer(HttpExchange x, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().add("Content-Type", "application/json");
        x.sendResponseHeaders(status, bytes.length);
        x.getResponseBody().write(bytes);
        x.close();
    }

    private String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Test
    void aRefusedKeyEndsTheRunWithStatusOne() {
        String[] err = new String[1];
        int status = run(err, "bench", "serve", "--url", url(), "--api-key", "wrong-key", "--concurrency", "1", "--requests", "1");
        assertThat(status).isEqualTo(1);
        assertThat(err[0].lines()).singleElement().asString().startsWith("tessera: GET " + url() + "/v1/models: HTTP 401");
        assertThat(keys).containsExactly("Bearer wrong-key");
    }

    @Test
    void failedCompletionsEndTheRunWithStatusOne() {
        String[] err = new String[1];
        int status = run(err, "bench", "serve", "--url", url(), "--api-key", "good-key", "--concurrency", "1", "--requests", "2",
                "--warmup", "0", "--max-tokens", "1", "--device", "cpu");
        assertThat(status).isEqualTo(1);
        assertThat(err[0].lines()).singleElement().asString()
                .startsWith("tessera: bench serve: 2 of 2 requests failed").contains("HTTP 429");
        assertThat(keys).hasSize(3).allMatch("Bearer good-key"::equals);
    }

    private static int run(String[] err, String... argv) {
        PrintStream saved = System.err;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream captured = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            System.setErr(captured);
            return Main.run(argv);
        } finally {
            System.setErr(saved);
            err[0] = bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
