package io.tessera.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.tessera.testing.NeedsServices;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The rolling restart drill, on the packaged application (target/quarkus-app/quarkus-run.jar, built by `package`
 * before failsafe runs this in `verify`): two instances of the service on the tiny fixture model behind one client
 * loop that, like a load balancer, sends each streaming request to a ready instance and retries a refused one
 * (connection refused, or 503 before any byte of the body) on the other. While a stream runs on the first
 * instance it gets SIGTERM (Process.destroy()), as a pod does on a rolling update. Asserted:
 * <ul>
 *   <li>the stream in flight on the first instance completes, ending in data: [DONE];</li>
 *   <li>no request of the loop fails: every one ends in data: [DONE], none breaks off mid-stream;</li>
 *   <li>the first instance turns unready, and the loop's requests move to the second;</li>
 *   <li>the first instance exits on its own within its grace period;</li>
 *   <li>the running service answers the probe paths of k8s/base/deployment.yaml and exports the gauges the
 *       HorizontalPodAutoscaler scales on.</li>
 * </ul>
 */
@NeedsServices
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RollingRestartIT {
    private static final Duration START_LIMIT = Duration.ofMinutes(4);
    private static final Duration GRACE = Duration.ofSeconds(30);
    private static final String MODEL_DIR = "testdata/fixtures/models/llama-tiny";

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Path root = DeployFiles.root();
    private Instance first;
    private Instance second;
    private String model;

    /** One service process, its port and its log. */
    private record Instance(String name, int port, int managementPort, Process process, Path log) {
        URI uri(String path) {
            return URI.create("http://127.0.0.1:" + port + path);
        }

        /** Health and metrics: the management interface's port. */
        URI managementUri(String path) {
            return URI.create("http://127.0.0.1:" + managementPort + path);
        }

        String logText() throws IOException {
            return Files.readString(log, StandardCharsets.UTF_8);
        }
    }

    @BeforeAll
    void startTwoInstances() throws Exception {
        Path app = Path.of(System.getProperty("tessera.it.app-dir", root.resolve("target/quarkus-app").toString()));
        assertThat(app.resolve("quarkus-run.jar")).as("the packaged service (mvn package runs before the integration tests)")
                .exists();
        first = start("first", app);
        second = start("second", app);
        awaitReady(first);
        awaitReady(second);
        InstanceSettings.createTenant("http://127.0.0.1:" + first.port());
        JsonNode models = json.readTree(get(second, "/v1/models").body());
        model = models.path("data").get(0).path("id").asText();
        assertThat(model).isNotBlank();
    }

    @AfterAll
    void stopInstances() {
        for (Instance i : new Instance[] {first, second}) {
            if (i != null && i.process().isAlive()) {
                i.process().destroyForcibly();
            }
        }
    }

    /**
     * Starts one instance through the images' entry point, src/main/docker/run-java.sh (so SIGTERM reaches the JVM
     * exactly as in a container), configured like a pod: by environment variables.
     */
    private Instance start(String name, Path app) throws IOException {
        int port = freePort();
        int management = freePort();
        Path work = root.resolve("target/rolling-restart").resolve(name);
        Files.createDirectories(work);
        Path log = work.resolve("service.log");
        ProcessBuilder pb = new ProcessBuilder("sh", root.resolve("src/main/docker/run-java.sh").toString())
                .directory(work.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + env.getOrDefault("PATH", "/usr/bin:/bin"));
        env.put("APP_DIR", app.toString());
        env.put("DJL_CACHE_DIR", djlCache());
        env.put("JAVA_OPTS", "-Xmx1g");
        Map<String, String> config = new java.util.LinkedHashMap<>();
        config.put("TESSERA_ENGINE_THREADS", "1");
        config.put("QUARKUS_HTTP_PORT", Integer.toString(port));
        config.put("QUARKUS_MANAGEMENT_PORT", Integer.toString(management));
        config.put("QUARKUS_SHUTDOWN_TIMEOUT", GRACE.toSeconds() + "s");
        config.put("TESSERA_MODEL", root.resolve(MODEL_DIR).toString());
        config.putAll(InstanceSettings.environment(work));
        assertThat(DeployFiles.envProblems("instance " + name, config, ConfigKeys.load(root), DeployFiles.launcherVariables()))
                .isEmpty();
        env.putAll(config);
        return new Instance(name, port, management, pb.start(), log);
    }

    private String djlCache() {
        return System.getProperty("tessera.it.djl-cache", root.resolve("target/djl-cache").toString());
    }

    private void awaitReady(Instance i) throws Exception {
        try {
            await().atMost(START_LIMIT).pollInterval(Duration.ofMillis(250)).failFast(() -> !i.process().isAlive())
                    .ignoreExceptionsInstanceOf(IOException.class)   // not listening yet
                    .until(() -> manage(i, "/q/health/ready").statusCode() == 200);
        } catch (TerminalFailureException e) {
            throw new AssertionError(i.name() + " exited with " + i.process().exitValue() + ":\n" + i.logText());
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(i.name() + " not ready after " + START_LIMIT + ":\n" + i.logText());
        }
    }

    // ---------------------------------------------------------------- the drill

    @Test
    void sigtermWhileStreamingFailsNoRequest() throws Exception {
        LoadBalancedClient client = new LoadBalancedClient(List.of(first, second));
        client.start(2);
        try {
            // both instances take the loop's traffic before the restart
            client.awaitServed(first, 3, Duration.ofSeconds(60));
            client.awaitServed(second, 3, Duration.ofSeconds(60));

            // a stream running on the first instance when SIGTERM arrives
            HttpResponse<InputStream> stream = http.send(completion(first, 200), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(stream.statusCode()).isEqualTo(200);
            BufferedReader body = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8));
            List<String> events = new ArrayList<>();
            readEvent(body, events);
            assertThat(events).as("the stream has begun").isNotEmpty();
            assertThat(events.get(0)).isNotEqualTo("[DONE]");
            assertThat(gauge(first, "tessera_running_sequences")).as("sequences running on the first instance")
                    .isGreaterThanOrEqualTo(1);
            long sigterm = System.nanoTime();
            client.markRestart(sigterm);
            first.process().destroy();   // SIGTERM on Linux
            int before = events.size();
            while (readEvent(body, events)) {
                if (events.get(events.size() - 1).equals("[DONE]")) {
                    break;
                }
            }
            long doneAfter = System.nanoTime() - sigterm;
            assertThat(events).as("the in-flight stream completes after SIGTERM").last().isEqualTo("[DONE]");
            System.out.printf("drill: in-flight stream %d events before SIGTERM, %d after, [DONE] %d ms after it%n",
                    before, events.size() - before, TimeUnit.NANOSECONDS.toMillis(doneAfter));
            assertThat(events.size()).as("events after SIGTERM").isGreaterThan(before);
            for (String e : events.subList(0, events.size() - 1)) {
                assertThat(json.readTree(e).has("error")).as("no error event: " + e).isFalse();
            }

            assertThat(first.process().waitFor(GRACE.toSeconds() + 15, TimeUnit.SECONDS))
                    .as("the first instance exits within its grace period").isTrue();
            // the loop goes on against the second instance alone
            client.awaitServedAfterRestart(second, 5, Duration.ofSeconds(60));
        } finally {
            client.stop();
        }

        System.out.printf("drill: loop completed %d requests (%d on %s, %d on %s; after SIGTERM %d on %s, %d on %s),"
                        + " %d attempts refused and retried%n", client.completed.get(), client.countServed(first),
                first.name(), client.countServed(second), second.name(), client.servedAfterRestart(first), first.name(),
                client.servedAfterRestart(second), second.name(), client.retried.get());
        assertThat(client.failures).as("requests of the client loop that failed").isEmpty();
        assertThat(client.servedAfterRestart(first)).as("requests the draining instance accepted after it went unready")
                .isLessThanOrEqualTo(client.workers);
        assertThat(client.completed.get()).isGreaterThan(10);
        assertThat(first.logText()).as("the first instance drained").containsIgnoringCase("draining")
                .doesNotContain("grace period");
    }

    @Test
    void probePathsOfTheDeploymentAndTheAutoscalerGaugesAreServed() throws Exception {
        JsonNode deployment = new YAMLMapper().readTree(root.resolve("k8s/base/deployment.yaml").toFile());
        JsonNode container = deployment.path("spec").path("template").path("spec").path("containers").get(0);
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            String path = container.path(probe).path("httpGet").path("path").asText();
            // the probes' port is the management interface (K8sManifestsTest checks its number)
            assertThat(container.path(probe).path("httpGet").path("port").asText()).isEqualTo("management");
            assertThat(manage(second, path).statusCode()).as(probe + " " + path).isEqualTo(200);
            assertThat(get(second, path).statusCode()).as(probe + " " + path + " on the API's port").isEqualTo(404);
        }
        String metrics = manage(second, "/q/metrics").body();
        JsonNode hpa = new YAMLMapper().readTree(root.resolve("k8s/base/hpa.yaml").toFile());
        for (JsonNode m : hpa.path("spec").path("metrics")) {
            if (m.path("type").asText().equals("Pods")) {
                String name = m.path("pods").path("metric").path("name").asText();
                assertThat(metrics).as("/q/metrics exports " + name).containsPattern("(?m)^" + name + "\\{");
            }
        }
        assertThat(metrics).containsPattern("(?m)^tessera_running_sequences\\{");
    }

    // ---------------------------------------------------------------- the client loop

    /**
     * Workers send streaming completions one after another. Each goes to the next ready instance (readiness polled
     * like a Service's endpoints); an attempt refused before the body starts (connection refused, 503) is retried
     * on the other instance, as a load balancer or a client with retries does. A request fails when no attempt
     * succeeds, or when a stream breaks off without data: [DONE].
     */
    private final class LoadBalancedClient {
        final List<Instance> instances;
        final Map<Instance, AtomicBoolean> ready;
        final List<String> failures = new CopyOnWriteArrayList<>();
        final AtomicInteger completed = new AtomicInteger();
        final AtomicInteger retried = new AtomicInteger();
        final List<Served> served = Collections.synchronizedList(new ArrayList<>());
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicLong restartAt = new AtomicLong(Long.MAX_VALUE);
        final AtomicInteger next = new AtomicInteger();
        final List<Thread> threads = new ArrayList<>();
        int workers;

        record Served(Instance instance, long acceptedAt) {
        }

        LoadBalancedClient(List<Instance> instances) {
            this.instances = instances;
            this.ready = new java.util.HashMap<>();
            for (Instance i : instances) {
                ready.put(i, new AtomicBoolean(true));
            }
        }

        void start(int workers) {
            this.workers = workers;
            Thread poller = new Thread(() -> {
                while (running.get()) {
                    for (Instance i : instances) {
                        boolean up;
                        try {
                            up = manage(i, "/q/health/ready").statusCode() == 200;
                        } catch (IOException | InterruptedException e) {
                            up = false;
                        }
                        ready.get(i).set(up);
                    }
                    sleep(200);   // a load balancer's health-check period: time between checks, nothing to await
                }
            }, "readiness-poller");
            threads.add(poller);
            for (int w = 0; w < workers; w++) {
                threads.add(new Thread(this::work, "client-" + w));
            }
            threads.forEach(Thread::start);
        }

        void markRestart(long at) {
            restartAt.set(at);
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(GRACE.toSeconds() + 30));
            }
        }

        private void work() {
            while (running.get()) {
                String outcome = oneRequest();
                if (outcome != null) {
                    failures.add(outcome);
                }
            }
        }

        /** null when the request succeeded, else why it failed. */
        private String oneRequest() {
            List<String> attempts = new ArrayList<>();
            for (int attempt = 0; attempt < 20; attempt++) {
                Instance target = pick();
                if (target == null) {
                    attempts.add("no ready instance");
                    sleep(100);   // a client's back-off before it tries again
                    continue;
                }
                long sentAt = System.nanoTime();
                HttpResponse<InputStream> r;
                try {
                    r = http.send(completion(target, 24), HttpResponse.BodyHandlers.ofInputStream());
                } catch (ConnectException e) {
                    attempts.add(target.name() + ": connection refused");
                    retried.incrementAndGet();
                    ready.get(target).set(false);
                    continue;
                } catch (IOException e) {
                    // no response at all: nothing was received, so retrying elsewhere is safe
                    attempts.add(target.name() + ": " + e);
                    retried.incrementAndGet();
                    continue;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
                if (r.statusCode() == 503 || r.statusCode() == 429) {
                    drain(r);
                    attempts.add(target.name() + ": " + r.statusCode());
                    retried.incrementAndGet();
                    if (r.statusCode() == 503) {
                        ready.get(target).set(false);
                    }
                    continue;
                }
                if (r.statusCode() != 200) {
                    return target.name() + ": HTTP " + r.statusCode() + " " + readAll(r) + " after " + attempts;
                }
                served.add(new Served(target, sentAt));
                // from here on the stream must complete: a break is a failed request
                try (BufferedReader body = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                    List<String> events = new ArrayList<>();
                    while (readEvent(body, events)) {
                        String last = events.get(events.size() - 1);
                        if (last.equals("[DONE]")) {
                            completed.incrementAndGet();
                            return null;
                        }
                        if (json.readTree(last).has("error")) {
                            return target.name() + ": error event " + last;
                        }
                    }
                    return target.name() + ": stream ended without [DONE] after " + events.size() + " events";
                } catch (IOException e) {
                    return target.name() + ": stream broke: " + e;
                }
            }
            return "no instance took the request: " + attempts;
        }

        private Instance pick() {
            for (int k = 0; k < instances.size(); k++) {
                Instance i = instances.get(Math.floorMod(next.getAndIncrement(), instances.size()));
                if (ready.get(i).get()) {
                    return i;
                }
            }
            return null;
        }

        long servedAfterRestart(Instance i) {
            synchronized (served) {
                return served.stream().filter(s -> s.instance() == i && s.acceptedAt() > restartAt.get()).count();
            }
        }

        void awaitServed(Instance i, int n, Duration limit) {
            awaitCount(i.name() + " serves the loop", () -> countServed(i), n, limit);
        }

        void awaitServedAfterRestart(Instance i, int n, Duration limit) {
            awaitCount(i.name() + " takes the loop after the restart", () -> servedAfterRestart(i), n, limit);
        }

        private void awaitCount(String what, Callable<Long> count, int n, Duration limit) {
            await(what).atMost(limit).pollInterval(Duration.ofMillis(50))
                    .failFast("client loop failures: " + failures, () -> !failures.isEmpty())
                    .until(count, c -> c >= n);
        }

        private long countServed(Instance i) {
            synchronized (served) {
                return served.stream().filter(s -> s.instance() == i).count();
            }
        }
    }

    // ---------------------------------------------------------------- HTTP

    private HttpRequest completion(Instance i, int maxTokens) {
        // ignore_eos: the stream runs its full length, however early the tiny model samples end-of-text
        String body = "{\"model\":\"" + model + "\",\"prompt\":\"Once upon a time\",\"max_tokens\":" + maxTokens
                + ",\"temperature\":0.8,\"seed\":7,\"ignore_eos\":true,\"stream\":true}";
        HttpRequest.Builder b = HttpRequest.newBuilder(i.uri("/v1/completions"))
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        InstanceSettings.authorize(b);
        return b.build();
    }

    /** A gauge's value summed over its series in /q/metrics. */
    private double gauge(Instance i, String name) throws IOException, InterruptedException {
        double sum = 0;
        for (String line : manage(i, "/q/metrics").body().split("\n")) {
            if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    private HttpResponse<String> get(Instance i, String path) throws IOException, InterruptedException {
        return get(i.uri(path));
    }

    private HttpResponse<String> manage(Instance i, String path) throws IOException, InterruptedException {
        return get(i.managementUri(path));
    }

    private HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET();
        InstanceSettings.authorize(b);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Reads up to the next SSE event and appends its data; false at the end of the body. */
    private static boolean readEvent(BufferedReader body, List<String> events) throws IOException {
        String line;
        StringBuilder data = null;
        while ((line = body.readLine()) != null) {
            if (line.isEmpty()) {
                if (data != null) {
                    events.add(data.toString());
                    return true;
                }
                continue;
            }
            if (line.startsWith("data:")) {
                String d = line.substring(5).stripLeading();
                data = data == null ? new StringBuilder(d) : data.append('\n').append(d);
            }
        }
        if (data != null) {
            events.add(data.toString());
            return true;
        }
        return false;
    }

    private static void drain(HttpResponse<InputStream> r) {
        try (InputStream in = r.body()) {
            in.readAllBytes();
        } catch (IOException e) {
            // ignored: the attempt is retried anyway
        }
    }

    private static String readAll(HttpResponse<InputStream> r) {
        try (InputStream in = r.body()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
