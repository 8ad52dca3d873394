package io.tessera.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * k8s/: renders the kustomize base and the cpu and gpu overlays with {@code kubectl kustomize} (what
 * {@code kubectl apply -k} applies), validates every object against the Kubernetes schemas
 * (src/test/node/validate.mjs: kubernetes-models; ServiceMonitor and PrometheusRule against the prometheus-operator
 * CRDs; npm packages installed into target/node-validate), then checks what the schemas cannot: probes, drain
 * timing, the wiring between objects, the configuration keys and the GPU specifics.
 * Needs kubectl (.ci/run installs it), node and the npm registry: without them the test fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class K8sManifestsTest {
    private static final Map<String, String> RENDERINGS = Map.of("base", "k8s/base", "cpu", "k8s/overlays/cpu",
            "gpu", "k8s/overlays/gpu");
    private static final String HELM_VALUES = "k8s/prometheus-adapter-values.yaml";

    private final Map<String, List<JsonNode>> rendered = new LinkedHashMap<>();
    private Path root;
    private Path work;

    @BeforeAll
    void renderAndValidate() throws Exception {
        root = DeployFiles.root();
        work = NodeTools.install();
        Path out = Files.createDirectories(work.resolve("out"));
        List<String> validate = new ArrayList<>(List.of("node", work.resolve("validate.mjs").toString()));
        for (String name : RENDERINGS.keySet().stream().sorted().toList()) {
            String yaml = NodeTools.run(root, Duration.ofMinutes(1), "kubectl", "kustomize", RENDERINGS.get(name));
            Path file = Files.writeString(out.resolve(name + ".yaml"), yaml);
            validate.add(file.toString());
            List<JsonNode> objects = new ArrayList<>();
            try (MappingIterator<JsonNode> docs = new YAMLMapper().readerFor(JsonNode.class).readValues(yaml)) {
                docs.forEachRemaining(objects::add);
            }
            rendered.put(name, objects);
        }
        NodeTools.run(work, Duration.ofMinutes(3), validate.toArray(String[]::new));
    }

    // ---------------------------------------------------------------- schemas and coverage

    @Test
    void everyOverlayRendersTheWholeApplication() {
        for (String name : RENDERINGS.keySet()) {
            Set<String> kinds = new TreeSet<>();
            rendered.get(name).forEach(o -> kinds.add(o.path("kind").asText()));
            assertThat(kinds).as(name).contains("Namespace", "ConfigMap", "Deployment", "Service",
                    "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceMonitor");
            String ns = one(name, "Namespace").path("metadata").path("name").asText();
            for (JsonNode o : rendered.get(name)) {
                if (!o.path("kind").asText().equals("Namespace")) {
                    assertThat(o.path("metadata").path("namespace").asText()).as(name + " " + id(o)).isEqualTo(ns);
                }
            }
        }
    }

    @Test
    void everyYamlFileUnderK8sIsRendered() throws IOException {
        Set<String> read = new TreeSet<>();
        for (String dir : RENDERINGS.values()) {
            kustomizationInputs(root.resolve(dir), read);
        }
        List<String> missed = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root.resolve("k8s"))) {
            files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                    .filter(f -> !f.equals(root.resolve(HELM_VALUES)))
                    .forEach(f -> {
                        if (!read.contains(f.toAbsolutePath().normalize().toString())) {
                            missed.add(root.relativize(f).toString());
                        }
                    });
        }
        assertThat(missed).as("files under k8s/ that no kustomization reads (so nothing validates them)").isEmpty();
    }

    @Test
    void noSecretValuesAreCommitted() {
        for (String name : RENDERINGS.keySet()) {
            for (JsonNode o : rendered.get(name)) {
                if (o.path("kind").asText().equals("Secret")) {
                    assertThat(o.has("data") || o.has("stringData")).as(name + " " + id(o) + " carries secret data")
                            .isFalse();
                }
            }
        }
    }

    /** The files a kustomization reads: itself, its resources (files, or directories, recursively) and patches. */
    private static void kustomizationInputs(Path dir, Set<String> read) throws IOException {
        Path file = dir.resolve("kustomization.yaml");
        read.add(file.toAbsolutePath().normalize().toString());
        JsonNode k = new YAMLMapper().readTree(file.toFile());
        for (JsonNode r : k.path("resources")) {
            Path p = dir.resolve(r.asText());
            if (Files.isDirectory(p)) {
                kustomizationInputs(p, read);
            } else {
                read.add(p.toAbsolutePath().normalize().toString());
            }
        }
        for (JsonNode patch : k.path("patches")) {
            read.add(dir.resolve(patch.path("path").asText()).toAbsolutePath().normalize().toString());
        }
    }

    // ---------------------------------------------------------------- the Deployment

    @Test
    void probesUseQuarkusHealthEndpoints() throws IOException {
        Map<String, String> healthPaths = healthPaths();
        for (String name : RENDERINGS.keySet()) {
            JsonNode c = container(name);
            assertThat(c.path("startupProbe").path("httpGet").path("path").asText()).as(name + " startup")
                    .isEqualTo(healthPaths.get("started"));
            assertThat(c.path("readinessProbe").path("httpGet").path("path").asText()).as(name + " readiness")
                    .isEqualTo(healthPaths.get("ready"));
            assertThat(c.path("livenessProbe").path("httpGet").path("path").asText()).as(name + " liveness")
                    .isEqualTo(healthPaths.get("live"));
            for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
                assertThat(containerPort(c, c.path(probe).path("httpGet").path("port")))
                        .as(name + " " + probe + " port: the management interface's").isEqualTo(DeployFiles.managementPort());
            }
        }
    }

    /**
     * The paths SmallRye Health serves, from the application's settings (quarkus.http.root-path,
     * quarkus.http.non-application-root-path, quarkus.smallrye-health.*; all fixed at build time) over Quarkus'
     * defaults: /q/health/started, /q/health/ready, /q/health/live. RollingRestartIT asks the running service.
     */
    private Map<String, String> healthPaths() throws IOException {
        java.util.Properties p = new java.util.Properties();
        Path file = root.resolve("src/main/resources/application.properties");
        try (var r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        assertThat(Thread.currentThread().getContextClassLoader()
                .getResource("io/quarkus/smallrye/health/runtime/SmallRyeHealthRecorder.class"))
                .as("quarkus-smallrye-health is a dependency (it serves the probe paths)").isNotNull();
        String rootPath = trim(p.getProperty("quarkus.http.root-path", "/"));
        String nonApp = trim(p.getProperty("quarkus.http.non-application-root-path", "q"));
        String health = trim(p.getProperty("quarkus.smallrye-health.root-path", "health"));
        String base = nonApp.startsWith("/") ? nonApp : join(rootPath, nonApp);
        base = health.startsWith("/") ? health : join(base, health);
        Map<String, String> out = new LinkedHashMap<>();
        out.put("started", join(base, p.getProperty("quarkus.smallrye-health.startup-path", "started")));
        out.put("ready", join(base, p.getProperty("quarkus.smallrye-health.readiness-path", "ready")));
        out.put("live", join(base, p.getProperty("quarkus.smallrye-health.liveness-path", "live")));
        return out;
    }

    private static String trim(String s) {
        return s.trim();
    }

    private static String join(String a, String b) {
        return ("/" + a + "/" + b).replaceAll("/+", "/");
    }

    @Test
    void graceCoversPreStopPlusDrain() throws IOException {
        for (String name : RENDERINGS.keySet()) {
            JsonNode pod = deployment(name).path("spec").path("template").path("spec");
            JsonNode c = container(name);
            long preStop = preStopSeconds(c.path("lifecycle").path("preStop"));
            assertThat(preStop).as(name + ": preStop gives the endpoint removal time to reach the proxies")
                    .isGreaterThanOrEqualTo(5);
            DeployFiles.Shutdown shutdown = DeployFiles.shutdown(containerEnv(name));
            long grace = pod.path("terminationGracePeriodSeconds").asLong(30);
            assertThat(grace).as(name + ": terminationGracePeriodSeconds >= preStop " + preStop + "s + shutdown delay "
                    + shutdown.delay().toSeconds() + "s + drain " + shutdown.timeout().toSeconds() + "s")
                    .isGreaterThanOrEqualTo(preStop + shutdown.total().toSeconds());
            assertThat(shutdown.timeout().toSeconds()).as(name + ": a drain long enough for a streamed completion")
                    .isGreaterThanOrEqualTo(30);
        }
    }

    private static long preStopSeconds(JsonNode preStop) {
        if (preStop.has("sleep")) {
            return preStop.path("sleep").path("seconds").asLong();
        }
        List<String> cmd = new ArrayList<>();
        preStop.path("exec").path("command").forEach(x -> cmd.add(x.asText()));
        String line = String.join(" ", cmd);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("sleep (\\d+)").matcher(line);
        assertThat(m.find()).as("preStop sleeps: " + line).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void rollingUpdateNeverDropsBelowTheReplicaCount() {
        for (String name : RENDERINGS.keySet()) {
            JsonNode strategy = deployment(name).path("spec").path("strategy");
            assertThat(strategy.path("type").asText("RollingUpdate")).isEqualTo("RollingUpdate");
            assertThat(strategy.path("rollingUpdate").path("maxUnavailable").asText()).as(name).isIn("0", "0%");
        }
    }

    @Test
    void configurationKeysExistInTheApplication() throws IOException {
        ConfigKeys keys = ConfigKeys.load(root);
        Set<String> launcher = DeployFiles.launcherVariables();
        List<String> problems = new ArrayList<>();
        for (String name : RENDERINGS.keySet()) {
            for (JsonNode cm : all(name, "ConfigMap")) {
                Map<String, String> data = new LinkedHashMap<>();
                cm.path("data").fields().forEachRemaining(e -> data.put(e.getKey(), e.getValue().asText()));
                problems.addAll(DeployFiles.envProblems(name + " ConfigMap " + cm.path("metadata").path("name").asText(),
                        data, keys, launcher));
            }
            Map<String, String> env = new LinkedHashMap<>();
            container(name).path("env").forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
            problems.addAll(DeployFiles.envProblems(name + " Deployment env", env, keys, launcher));
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void referencedConfigMapsAndSecretsAreWiredConsistently() {
        for (String name : RENDERINGS.keySet()) {
            JsonNode c = container(name);
            for (JsonNode from : c.path("envFrom")) {
                if (from.has("configMapRef")) {
                    String cm = from.path("configMapRef").path("name").asText();
                    assertThat(named(name, "ConfigMap", cm)).as(name + ": ConfigMap " + cm + " is part of the manifests")
                            .isNotNull();
                }
            }
            for (JsonNode e : c.path("env")) {
                JsonNode ref = e.path("valueFrom").path("secretKeyRef");
                if (!ref.isMissingNode()) {
                    // the Secret itself is the operator's (README.md lists its keys)
                    assertThat(ref.path("name").asText()).as(name + " " + e.path("name").asText())
                            .isEqualTo("tessera-secrets");
                    assertThat(ref.path("key").asText()).isNotBlank();
                }
            }
        }
    }

    // ---------------------------------------------------------------- Service, PDB, ServiceMonitor, HPA

    @Test
    void serviceMonitorAndPdbSelectThePods() throws IOException {
        for (String name : RENDERINGS.keySet()) {
            JsonNode d = deployment(name);
            Map<String, String> podLabels = map(d.path("spec").path("template").path("metadata").path("labels"));
            assertThat(podLabels).as(name + ": Deployment selector matches its pods")
                    .containsAllEntriesOf(map(d.path("spec").path("selector").path("matchLabels")));
            JsonNode svc = named(name, "Service", "tessera");
            assertThat(svc).as(name + " Service tessera").isNotNull();
            assertThat(podLabels).as(name + ": Service selects the pods")
                    .containsAllEntriesOf(map(svc.path("spec").path("selector")));
            for (JsonNode port : svc.path("spec").path("ports")) {
                assertThat(containerPortExists(container(name), port.path("targetPort"))).as(name + " Service targetPort")
                        .isTrue();
            }
            JsonNode pdb = one(name, "PodDisruptionBudget");
            assertThat(podLabels).as(name + ": PodDisruptionBudget selects the pods")
                    .containsAllEntriesOf(map(pdb.path("spec").path("selector").path("matchLabels")));
            JsonNode sm = one(name, "ServiceMonitor");
            assertThat(map(svc.path("metadata").path("labels"))).as(name + ": ServiceMonitor selects the Service")
                    .containsAllEntriesOf(map(sm.path("spec").path("selector").path("matchLabels")));
            Set<String> servicePorts = new TreeSet<>();
            svc.path("spec").path("ports").forEach(p -> servicePorts.add(p.path("name").asText()));
            for (JsonNode ep : sm.path("spec").path("endpoints")) {
                assertThat(servicePorts).as(name + ": ServiceMonitor port").contains(ep.path("port").asText());
                assertThat(ep.path("path").asText()).isEqualTo("/q/metrics");
                for (JsonNode port : svc.path("spec").path("ports")) {
                    if (port.path("name").asText().equals(ep.path("port").asText())) {
                        assertThat(containerPort(container(name), port.path("targetPort")))
                                .as(name + ": metrics are scraped from the management interface").isEqualTo(DeployFiles.managementPort());
                    }
                }
            }
        }
    }

    @Test
    void autoscalerUsesAServiceGaugeWithACpuFallback() throws IOException {
        JsonNode adapter = new YAMLMapper().readTree(root.resolve(HELM_VALUES).toFile());
        Set<String> adapterMetrics = new TreeSet<>();
        adapter.path("rules").path("custom").forEach(r -> adapterMetrics.add(r.path("name").path("as").asText()));
        for (String name : RENDERINGS.keySet()) {
            JsonNode hpa = one(name, "HorizontalPodAutoscaler");
            assertThat(hpa.path("apiVersion").asText()).isEqualTo("autoscaling/v2");
            JsonNode target = hpa.path("spec").path("scaleTargetRef");
            assertThat(target.path("kind").asText() + "/" + target.path("name").asText())
                    .isEqualTo("Deployment/" + deployment(name).path("metadata").path("name").asText());
            assertThat(hpa.path("spec").path("minReplicas").asInt(1)).isLessThanOrEqualTo(hpa.path("spec").path("maxReplicas").asInt());
            List<String> custom = new ArrayList<>();
            boolean cpu = false;
            for (JsonNode m : hpa.path("spec").path("metrics")) {
                if (m.path("type").asText().equals("Pods")) {
                    custom.add(m.path("pods").path("metric").path("name").asText());
                } else if (m.path("type").asText().equals("Resource")) {
                    cpu |= m.path("resource").path("name").asText().equals("cpu");
                }
            }
            assertThat(custom).as(name + ": a Pods metric from /q/metrics").isNotEmpty();
            assertThat(cpu).as(name + ": CPU utilisation as the fallback").isTrue();
            assertThat(container(name).path("resources").path("requests").has("cpu"))
                    .as(name + ": CPU utilisation needs a CPU request").isTrue();
            for (String metric : custom) {
                assertThat(List.of("tessera_queue_depth", "tessera_running_sequences")).as(name).contains(metric);
                assertThat(adapterMetrics).as(name + ": the Prometheus adapter exposes " + metric).contains(metric);
                assertThat(mainSourcesMention(metric.replace('_', '.')))
                        .as("the service registers the meter behind " + metric).isTrue();
            }
        }
    }

    private boolean mainSourcesMention(String text) throws IOException {
        try (Stream<Path> files = Files.walk(root.resolve("src/main/java"))) {
            return files.filter(f -> f.toString().endsWith(".java")).anyMatch(f -> {
                try {
                    return Files.readString(f).contains("\"" + text + "\"");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
    }

    // ---------------------------------------------------------------- cpu and gpu

    @Test
    void gpuOverlayAsksForAGpuOnGpuNodesAndTheCpuOverlayDoesNot() {
        JsonNode gpu = container("gpu");
        assertThat(gpu.path("resources").path("limits").path("nvidia.com/gpu").asInt()).isGreaterThanOrEqualTo(1);
        JsonNode pod = deployment("gpu").path("spec").path("template").path("spec");
        boolean tolerates = false;
        for (JsonNode t : pod.path("tolerations")) {
            tolerates |= t.path("key").asText().equals("nvidia.com/gpu");
        }
        assertThat(tolerates).as("gpu: tolerates the nvidia.com/gpu taint").isTrue();
        assertThat(pod.path("nodeSelector").size()).as("gpu: scheduled on GPU nodes").isPositive();
        assertThat(containerEnv("gpu")).containsEntry("TESSERA_DEVICE", "gpu");
        assertThat(gpu.path("image").asText()).endsWith("-gpu");

        for (String name : List.of("base", "cpu")) {
            String text = deployment(name).toString();
            assertThat(text).as(name).doesNotContain("nvidia.com/gpu");
        }
        assertThat(container("cpu").path("image").asText()).endsWith("-cpu");
        assertThat(containerEnv("cpu")).containsEntry("TESSERA_DEVICE", "cpu");
    }

    // ---------------------------------------------------------------- helpers

    private JsonNode deployment(String name) {
        return one(name, "Deployment");
    }

    private JsonNode container(String name) {
        JsonNode containers = deployment(name).path("spec").path("template").path("spec").path("containers");
        assertThat(containers.size()).as(name + ": one container").isEqualTo(1);
        return containers.get(0);
    }

    /** The container's environment: its envFrom ConfigMaps, then env (plain values; references as "<ref>"). */
    private Map<String, String> containerEnv(String name) {
        Map<String, String> env = new LinkedHashMap<>();
        JsonNode c = container(name);
        for (JsonNode from : c.path("envFrom")) {
            JsonNode cm = named(name, "ConfigMap", from.path("configMapRef").path("name").asText());
            if (cm != null) {
                cm.path("data").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
            }
        }
        for (JsonNode e : c.path("env")) {
            env.put(e.path("name").asText(), e.has("value") ? e.path("value").asText() : "<ref>");
        }
        return env;
    }

    /** The container port a probe or Service names (by number or name); -1 when none matches. */
    private static int containerPort(JsonNode container, JsonNode port) {
        for (JsonNode p : container.path("ports")) {
            if (port.isInt() ? p.path("containerPort").asInt() == port.asInt() : p.path("name").asText().equals(port.asText())) {
                return p.path("containerPort").asInt();
            }
        }
        return -1;
    }

    private static boolean containerPortExists(JsonNode container, JsonNode port) {
        for (JsonNode p : container.path("ports")) {
            if (port.isInt() ? p.path("containerPort").asInt() == port.asInt() : p.path("name").asText().equals(port.asText())) {
                return true;
            }
        }
        return false;
    }

    private List<JsonNode> all(String name, String kind) {
        return rendered.get(name).stream().filter(o -> o.path("kind").asText().equals(kind)).toList();
    }

    private JsonNode one(String name, String kind) {
        List<JsonNode> found = all(name, kind);
        assertThat(found).as(name + ": one " + kind).hasSize(1);
        return found.get(0);
    }

    private JsonNode named(String name, String kind, String objectName) {
        return all(name, kind).stream().filter(o -> o.path("metadata").path("name").asText().equals(objectName))
                .findFirst().orElse(null);
    }

    private static Map<String, String> map(JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    private static String id(JsonNode o) {
        return o.path("kind").asText() + "/" + o.path("metadata").path("name").asText();
    }
}
