package io.tessera.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * docker-compose.yml: valid against the Compose Specification (dclint, npm), every service it names defined and
 * health-checked, volumes declared, the hosts in the service's URLs its own services, and every TESSERA_* /
 * QUARKUS_* variable it gives the service a property of the application.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ComposeFileTest {
    private static final String SERVICE = "tessera";

    private Path root;
    private JsonNode compose;
    private JsonNode services;

    @BeforeAll
    void parse() throws Exception {
        root = DeployFiles.root();
        compose = new YAMLMapper().readTree(root.resolve("docker-compose.yml").toFile());
        services = compose.path("services");
    }

    @Test
    void conformsToTheComposeSpecification() throws Exception {
        Path tools = NodeTools.install();
        // the Compose Specification's JSON schema plus dclint's error rules; minio/minio has no maintained
        // versioned tags, so the explicit-tag rule is off (postgres and redis are pinned all the same)
        NodeTools.run(root, Duration.ofMinutes(2), "node", tools.resolve("node_modules/dclint/bin/dclint.cjs").toString(),
                "-q", "--color", "false", "docker-compose.yml", "--disable-rule", "service-image-require-explicit-tag");
    }

    @Test
    void definesTheStackWithHealthChecks() throws Exception {
        assertThat(names(services)).contains("postgres", "redis", "minio", SERVICE);
        for (String name : names(services)) {
            if (oneShot(name)) {
                continue;   // a job that runs to completion: waited for by service_completed_successfully
            }
            JsonNode test = services.path(name).path("healthcheck").path("test");
            assertThat(test.isMissingNode() || test.isNull()).as(name + " has a health check").isFalse();
        }
        assertThat(services.path(SERVICE).path("healthcheck").path("test").toString())
                .as("the service is healthy when ready, on the management port")
                .contains("localhost:" + DeployFiles.managementPort() + "/q/health/ready");
    }

    @Test
    void everyDependencyIsDefinedAndWaitedForHealthy() {
        for (String name : names(services)) {
            JsonNode deps = services.path(name).path("depends_on");
            List<String> targets = new ArrayList<>();
            if (deps.isArray()) {
                deps.forEach(d -> targets.add(d.asText()));
            } else {
                deps.fieldNames().forEachRemaining(targets::add);
            }
            for (String dep : targets) {
                assertThat(services.has(dep)).as(name + " depends on " + dep + ", which is defined").isTrue();
                if (deps.isObject()) {
                    assertThat(deps.path(dep).path("condition").asText()).as(name + " waits for " + dep)
                            .isEqualTo(oneShot(dep) ? "service_completed_successfully" : "service_healthy");
                }
            }
        }
        Set<String> deps = new TreeSet<>();
        services.path(SERVICE).path("depends_on").fieldNames().forEachRemaining(deps::add);
        assertThat(deps).as("the service waits for its backing services").contains("postgres", "redis", "minio");
    }

    @Test
    void volumesAreDeclaredAndBindMountsExist() {
        Set<String> declared = names(compose.path("volumes"));
        for (String name : names(services)) {
            for (JsonNode v : services.path(name).path("volumes")) {
                String source = v.isTextual() ? v.asText().split(":")[0] : v.path("source").asText();
                if (source.startsWith(".") || source.startsWith("/")) {
                    assertThat(root.resolve(source).normalize()).as(name + " bind mount").exists();
                } else {
                    assertThat(declared).as(name + " named volume").contains(source);
                }
            }
        }
        assertThat(services.path(SERVICE).path("build").path("dockerfile").asText()).isNotBlank();
        assertThat(root.resolve(services.path(SERVICE).path("build").path("dockerfile").asText())).exists();
    }

    @Test
    void serviceConfigurationKeysExistInTheApplication() throws Exception {
        ConfigKeys keys = ConfigKeys.load(root);
        Map<String, String> env = environment(services.path(SERVICE));
        assertThat(env).isNotEmpty();
        assertThat(DeployFiles.envProblems("docker-compose.yml " + SERVICE, env, keys, DeployFiles.launcherVariables()))
                .isEmpty();
    }

    @Test
    void serviceUrlsPointAtComposeServices() {
        Map<String, String> env = environment(services.path(SERVICE));
        Pattern host = Pattern.compile("://([A-Za-z0-9.-]+)(?::\\d+)?");
        List<String> wired = new ArrayList<>();
        for (Map.Entry<String, String> e : env.entrySet()) {
            Matcher m = host.matcher(e.getValue());
            while (m.find()) {
                assertThat(services.has(m.group(1))).as(e.getKey() + " points at " + m.group(1)).isTrue();
                wired.add(m.group(1));
            }
        }
        assertThat(wired).as("the service reaches Postgres, Redis and MinIO").contains("postgres", "redis", "minio");
    }

    @Test
    void modelIsMountedIntoTheService() {
        Map<String, String> env = environment(services.path(SERVICE));
        String model = env.get("TESSERA_MODEL");
        assertThat(model).as("TESSERA_MODEL").isNotNull();
        boolean found = false;
        for (JsonNode v : services.path(SERVICE).path("volumes")) {
            String[] parts = v.asText().split(":");
            if (parts.length >= 2 && model.startsWith(parts[1] + "/") && parts[0].startsWith(".")) {
                Path onHost = root.resolve(parts[0]).resolve(model.substring(parts[1].length() + 1)).normalize();
                assertThat(onHost.resolve("config.json")).as("the model the service loads").exists();
                found = true;
            }
        }
        assertThat(found).as(model + " lies in a bind-mounted directory").isTrue();
    }

    @Test
    void stopGracePeriodCoversTheDrain() throws Exception {
        Map<String, String> env = environment(services.path(SERVICE));
        assertThat(env).as("QUARKUS_SHUTDOWN_TIMEOUT: how long running streams get on stop")
                .containsKey("QUARKUS_SHUTDOWN_TIMEOUT");
        Duration drain = DeployFiles.shutdown(env).total();
        Duration grace = composeDuration(services.path(SERVICE).path("stop_grace_period").asText("10s"));
        assertThat(grace).as("stop_grace_period >= shutdown delay + drain " + drain).isGreaterThanOrEqualTo(drain);
    }

    /** A service that runs once and exits (restart: "no"), e.g. a job preparing data for another. */
    private boolean oneShot(String name) {
        return services.path(name).path("restart").asText().equals("no");
    }

    /** Compose durations: 1h2m3s, 90s, 1m30s, 500ms. */
    static Duration composeDuration(String text) {
        Matcher m = Pattern.compile("(\\d+)(ms|us|h|m|s)").matcher(text);
        Duration d = Duration.ZERO;
        int end = 0;
        while (m.find()) {
            assertThat(m.start()).as("compose duration " + text).isEqualTo(end);
            end = m.end();
            long n = Long.parseLong(m.group(1));
            d = d.plus(switch (m.group(2)) {
                case "h" -> Duration.ofHours(n);
                case "m" -> Duration.ofMinutes(n);
                case "s" -> Duration.ofSeconds(n);
                case "ms" -> Duration.ofMillis(n);
                default -> Duration.ofNanos(n * 1000);
            });
        }
        assertThat(end).as("compose duration " + text).isEqualTo(text.length()).isPositive();
        return d;
    }

    /** A service's environment, from the map or the KEY=VALUE list form. */
    static Map<String, String> environment(JsonNode service) {
        Map<String, String> env = new LinkedHashMap<>();
        JsonNode e = service.path("environment");
        if (e.isArray()) {
            for (JsonNode item : e) {
                String s = item.asText();
                int eq = s.indexOf('=');
                env.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? "" : s.substring(eq + 1));
            }
        } else {
            e.fields().forEachRemaining(f -> env.put(f.getKey(), f.getValue().asText()));
        }
        return env;
    }

    private static Set<String> names(JsonNode object) {
        Set<String> out = new TreeSet<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
