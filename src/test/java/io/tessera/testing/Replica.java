package io.tessera.testing;

import static org.awaitility.Awaitility.await;
import io.restassured.RestAssured;
import io.restassured.specification.RequestSpecification;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;

/** The packaged service (bin/tessera serve) as a process of its own, on a free port, for multi-replica tests. */
public final class Replica implements AutoCloseable {
    private final Process process;
    private final int port;
    private final int managementPort;
    private final Path log;

    private Replica(Process process, int port, int managementPort, Path log) {
        this.process = process;
        this.port = port;
        this.managementPort = managementPort;
        this.log = log;
    }

    /** Starts one replica with {@code config} as system properties; waits until it is ready. */
    public static Replica start(String name, Map<String, String> config, Duration timeout) throws IOException, InterruptedException {
        return launch(name, config).awaitReady(name, timeout);
    }

    /** As {@link #start}, with {@code cwd} as the current directory of bin/tessera serve. */
    public static Replica startFrom(Path cwd, String name, Map<String, String> config, Duration timeout)
            throws IOException, InterruptedException {
        return launch(cwd, name, config).awaitReady(name, timeout);
    }

    /** Starts NAME-1 and NAME-2 on one configuration, each with its own work directory target/it-NAME-i. */
    public static Replica[] startTwo(String name, Map<String, String> config) throws IOException, InterruptedException {
        Replica[] two = new Replica[2];
        for (int i = 0; i < 2; i++) {
            Map<String, String> own = new HashMap<>(config);
            own.put("tessera.registry.work-dir", "target/it-" + name + "-" + (i + 1));
            two[i] = start(name + "-" + (i + 1), own, Duration.ofMinutes(3));
        }
        return two;
    }

    /** Stops the replicas that were started (nulls skipped), last first. */
    public static void closeAll(Replica... replicas) throws InterruptedException {
        for (int i = replicas.length - 1; i >= 0; i--) {
            if (replicas[i] != null) {
                replicas[i].close();
            }
        }
    }

    /** A request to this replica with the given bearer key. */
    public RequestSpecification as(String key) {
        return RestAssured.given().baseUri(url()).auth().oauth2(key);
    }

    /**
     * Starts one replica with {@code config} as system properties ({@code bin/tessera serve -Dkey=value ...}), its
     * output to target/NAME.log; does not wait.
     */
    public static Replica launch(String name, Map<String, String> config) throws IOException {
        return launch(Path.of("").toAbsolutePath(), name, config);
    }

    private static Replica launch(Path cwd, String name, Map<String, String> config) throws IOException {
        int port = freePort();
        int management = freePort();
        List<String> command = new ArrayList<>(List.of(Path.of("bin/tessera").toAbsolutePath().toString(), "serve"));
        config.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-Dquarkus.http.port=" + port);
        command.add("-Dquarkus.management.port=" + management);
        Path log = Path.of("target", name + ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        return new Replica(pb.start(), port, management, log);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private Replica awaitReady(String name, Duration timeout) throws IOException, InterruptedException {
        try {
            await().atMost(timeout).pollInterval(Duration.ofMillis(200)).failFast(() -> !process.isAlive()).until(this::ready);
        } catch (ConditionTimeoutException | TerminalFailureException e) {
            close();
            throw new IllegalStateException(name + " did not become ready; its log:\n" + Files.readString(log), e);
        }
        return this;
    }

    /** The exit status once the process has ended, or empty if it still runs after {@code timeout}. */
    public Optional<Integer> awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? Optional.of(process.exitValue()) : Optional.empty();
    }

    /** kill -9: no shutdown hook runs, whatever the process started is left as it was. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    /** What the process printed so far. */
    public String log() throws IOException {
        return Files.readString(log);
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** The management interface: health and metrics. */
    public String managementUrl() {
        return "http://127.0.0.1:" + managementPort;
    }

    private boolean ready() {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(managementUrl() + "/q/health/ready").toURL().openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(2000);
            return c.getResponseCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
