package io.tessera.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;

/** X-Request-Id: taken from the client when safe, else generated; on every response, error body, log and access log line. */
@QuarkusTest
class RequestIdsApiTest extends ServiceTest {
    private static final String ID = RequestIds.HEADER;

    /** The lines logged under some categories while it is open. */
    private static final class LogCapture extends Handler implements AutoCloseable {
        final List<String> lines = new CopyOnWriteArrayList<>();
        private final String[] categories;

        LogCapture(String... categories) {
            this.categories = categories;
            for (String c : categories) {
                Logger.getLogger(c).addHandler(this);
            }
        }

        @Override
        public void publish(LogRecord r) {
            lines.add(r instanceof ExtLogRecord x ? x.getFormattedMessage() : r.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            for (String c : categories) {
                Logger.getLogger(c).removeHandler(this);
            }
        }

        /** Waits for a line holding every fragment. */
        void await(String... fragments) {
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .untilAsserted(() -> assertThat(lines).anySatisfy(l -> assertThat(l).contains(fragments)));
        }
    }

    @Test
    void aSafeClientIdComesBackOnEveryKindOfResponse() throws IOException {
        String id = "trace-42.a_b:c";
        given().header(ID, id).get("/v1/models").then().statusCode(200).header(ID, id);
        given().header(ID, id).contentType("application/json").body("{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":2,"
                + "\"stream\":true}").post("/v1/completions").then().statusCode(200).contentType("text/event-stream").header(ID, id);
        Response missing = given().header(ID, id).contentType("application/json").body("{\"model\":\"nope\",\"prompt\":\"x\"}")
                .post("/v1/completions");
        assertThat(ErrorsApiTest.error(missing, 404).get("request_id").asText()).isEqualTo(id);
        JsonNode unknown = ErrorsApiTest.error(given().header(ID, id).get("/v1/embeddings"), 404);
        assertThat(unknown.get("request_id").asText()).isEqualTo(id);
        // refused before any resource runs: no key
        given().auth().oauth2("tsk_wrong").header(ID, id).get("/v1/models").then().statusCode(401).header(ID, id);
    }

    @Test
    void anUnsafeLongOrMissingIdIsReplacedByAGeneratedOne() {
        String generated = given().get("/v1/models").then().statusCode(200).extract().header(ID);
        assertThat(generated).matches("req_[0-9a-f]{32}");
        for (String bad : new String[] {"a b", "x\"y", "<script>", "é", "a".repeat(RequestIds.MAX_LENGTH + 1), ""}) {
            String got = given().header(ID, bad).get("/v1/models").then().statusCode(200).extract().header(ID);
            assertThat(got).as(bad).matches("req_[0-9a-f]{32}").isNotEqualTo(generated);
        }
        String longest = "a".repeat(RequestIds.MAX_LENGTH);
        given().header(ID, longest).get("/v1/models").then().header(ID, longest);
    }

    @Test
    void theLogLineOfACompletionAndTheAccessLogLineCarryTheId() {
        String id = "log-check-" + System.nanoTime();
        try (LogCapture access = new LogCapture("io.quarkus.http.access-log");
             LogCapture inference = new LogCapture(Inference.class.getName())) {
            String completion = given().header(ID, id).contentType("application/json")
                    .body("{\"model\":\"demo-llama\",\"prompt\":\"x\",\"max_tokens\":1}").post("/v1/completions")
                    .then().statusCode(200).extract().path("id");
            given().header(ID, id).get("/v1/nothing-here").then().statusCode(404);
            inference.await(completion, id);
            access.await("\"POST /v1/completions", " 200 ", id);
            access.await("\"GET /v1/nothing-here", " 404 ", id);
        }
    }
}
