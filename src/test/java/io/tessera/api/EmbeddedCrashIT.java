package io.tessera.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.hasItem;

import io.tessera.testing.Replica;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of a service on the embedded Postgres, then a start on the same data directory (RELIABILITY 36): it
 * becomes ready and serves the data of the killed run, both when the killed run's postgres still runs (pg_ctl
 * detaches it from the JVM) and when that is gone too and its PID has been taken by another process.
 */
class EmbeddedCrashIT {
    private static final String ADMIN = "it-admin-key";
    private static final Path DATA = Path.of("target", "it-crash");
    private static final Path PID_FILE = DATA.resolve("postgres/postmaster.pid");

    private final List<Replica> started = new ArrayList<>();

    private Replica start(String name) throws Exception {
        Replica r = Replica.start(name, Map.of("tessera.store.embedded-postgres-dir", DATA.resolve("postgres").toString(),
                "tessera.store.root", DATA.resolve("store").toString(), "tessera.registry.work-dir", DATA.resolve("work").toString(),
                "tessera.registry.seed-dir", "", "tessera.security.admin-key", ADMIN, "tessera.scheduler.max-running", "4"),
                Duration.ofMinutes(3));
        started.add(r);
        return r;
    }

    @AfterEach
    void stopAll() throws Exception {
        for (Replica r : started) {
            r.close();
        }
        // a failed run must not leave its postgres behind
        postmaster().filter(p -> p.info().command().orElse("").endsWith("/postgres")).ifPresent(ProcessHandle::destroy);
    }

    @Test
    void startsAfterAKillMinus9WithTheOrphanStillRunningAndAfterItDiedToo() throws Exception {
        if (Files.exists(DATA)) {
            try (Stream<Path> s = Files.walk(DATA)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        Replica first = start("crash-1");
        given().baseUri(first.url()).auth().oauth2(ADMIN).contentType("application/json").body(Map.of("name", "survivor"))
                .post("/v1/admin/tenants").then().statusCode(201);
        first.kill();
        ProcessHandle orphan = postmaster().orElseThrow(() -> new AssertionError("the killed run's postgres is gone"));

        Replica second = start("crash-2");
        assertThat(orphan.isAlive()).as("the orphan was stopped").isFalse();
        assertThat(second.log()).contains("left running on");
        serves(second);

        // this time the orphan dies as well, without cleaning up, and its PID goes to another process
        second.kill();
        ProcessHandle dead = postmaster().orElseThrow();
        List<ProcessHandle> backends = dead.descendants().toList();
        dead.destroyForcibly();
        for (ProcessHandle p : backends) {
            p.destroyForcibly();
            p.onExit().get(30, TimeUnit.SECONDS);
        }
        dead.onExit().get(30, TimeUnit.SECONDS);
        List<String> lines = new ArrayList<>(Files.readAllLines(PID_FILE));
        lines.set(0, Long.toString(ProcessHandle.current().pid()));
        Files.write(PID_FILE, lines);

        Replica third = start("crash-3");
        assertThat(third.log()).contains("removing").contains("is not its postgres");
        serves(third);
    }

    /** Ready (start waited for that), and the registry holds what the first run wrote. */
    private static void serves(Replica r) {
        given().baseUri(r.url()).auth().oauth2(ADMIN).get("/v1/admin/tenants").then().statusCode(200)
                .body("data.name", hasItem("survivor"));
        given().baseUri(r.url()).auth().oauth2(ADMIN).contentType("application/json")
                .body(Map.of("model", "demo-llama", "prompt", "Returns the number of", "max_tokens", 2, "temperature", 0))
                .post("/v1/completions").then().statusCode(200);
    }

    /** The live process the data directory's postmaster.pid names. */
    private static Optional<ProcessHandle> postmaster() throws IOException {
        if (!Files.exists(PID_FILE)) {
            return Optional.empty();
        }
        return ProcessHandle.of(Long.parseLong(Files.readAllLines(PID_FILE).get(0).trim())).filter(ProcessHandle::isAlive);
    }
}
