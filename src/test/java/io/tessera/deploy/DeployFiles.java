package io.tessera.deploy;

import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Shared by the deployment tests: the project root, the shutdown budget, the environment-variable check. */
final class DeployFiles {
    private DeployFiles() {
    }

    static Path root() {
        return Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    }

    /** The management interface's port (health, metrics): quarkus.management.port in application.properties. */
    static int managementPort() throws IOException {
        java.util.Properties p = new java.util.Properties();
        try (var r = Files.newBufferedReader(root().resolve("src/main/resources/application.properties"))) {
            p.load(r);
        }
        if (!Boolean.parseBoolean(p.getProperty("quarkus.management.enabled"))) {
            throw new AssertionError("quarkus.management.enabled=true: health and metrics stay off the API's port");
        }
        return Integer.parseInt(p.getProperty("quarkus.management.port", "9000"));
    }

    /** How long a stop takes at most: the shutdown delay (readiness down, new requests 503) plus the drain timeout. */
    record Shutdown(Duration delay, Duration timeout) {
        Duration total() {
            return delay.plus(timeout);
        }
    }

    /**
     * The shutdown budget of a container with this environment: quarkus.shutdown.timeout, and quarkus.shutdown.delay
     * when the build enables it (quarkus.shutdown.delay-enabled, build time), each from the environment or else
     * application.properties, resolved and converted as Quarkus does. The timeout must be set somewhere: Quarkus'
     * default waits for no request.
     */
    static Shutdown shutdown(Map<String, String> env) throws IOException {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withSources(new EnvConfigSource(env, 300),
                        new PropertiesConfigSource(root().resolve("src/main/resources/application.properties").toUri().toURL(), 250))
                .withConverter(Duration.class, 100, new DurationConverter())
                .build();
        Duration timeout = config.getOptionalValue("quarkus.shutdown.timeout", Duration.class).orElseThrow(() ->
                new AssertionError("quarkus.shutdown.timeout is set neither in the environment nor in application.properties"));
        Duration delay = config.getOptionalValue("quarkus.shutdown.delay-enabled", Boolean.class).orElse(false)
                ? config.getOptionalValue("quarkus.shutdown.delay", Duration.class).orElse(Duration.ZERO) : Duration.ZERO;
        return new Shutdown(delay, timeout);
    }

    /**
     * Variables the images' entry point (src/main/docker/run-java.sh) reads itself: they configure the JVM, not
     * the application, so they need no property.
     */
    static Set<String> launcherVariables() throws IOException {
        String script = Files.readString(root().resolve("src/main/docker/run-java.sh"));
        Set<String> out = new TreeSet<>();
        Matcher m = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)").matcher(script);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /**
     * Problems with environment variables that configure Tessera: every TESSERA_* and QUARKUS_* variable must name
     * a property of the application (or be one the entry point reads), and a Quarkus property must be settable at
     * run time (a build-time property set in a container has no effect, or stops the start).
     */
    static List<String> envProblems(String where, Map<String, String> env, ConfigKeys keys, Set<String> launcher) {
        List<String> problems = new ArrayList<>();
        for (String name : new TreeSet<>(env.keySet())) {
            if (!name.startsWith("TESSERA_") && !name.startsWith("QUARKUS_")) {
                continue;
            }
            if (launcher.contains(name)) {
                continue;
            }
            List<ConfigKeys.Key> matches = keys.forEnv(name);
            if (matches.isEmpty()) {
                String prefix = name.startsWith("TESSERA_") ? "tessera." : "quarkus.";
                problems.add(where + ": " + name + " names no property of the application (known " + prefix
                        + "* keys include: " + nearest(keys, name) + ")");
                continue;
            }
            boolean runtime = matches.stream().anyMatch(k -> k.phase() == ConfigKeys.Phase.APPLICATION
                    || k.phase() == ConfigKeys.Phase.RUN_TIME);
            if (!runtime) {
                problems.add(where + ": " + name + " sets " + matches.get(0).property() + ", fixed at build time ("
                        + matches.get(0).phase() + ")");
            }
        }
        return problems;
    }

    private static String nearest(ConfigKeys keys, String env) {
        // the known properties sharing the longest leading run of segments with the variable
        String[] parts = env.split("_");
        for (int n = parts.length - 1; n >= 2; n--) {
            String head = String.join("_", java.util.Arrays.copyOf(parts, n)) + "_";
            Set<String> near = new TreeSet<>();
            for (ConfigKeys.Key k : keys.keys()) {
                if (ConfigKeys.toEnv(k.property()).startsWith(head)) {
                    near.add(k.property());
                }
            }
            if (!near.isEmpty()) {
                return near.size() > 12 ? String.join(", ", new ArrayList<>(near).subList(0, 12)) + ", ..."
                        : String.join(", ", near);
            }
        }
        return "none";
    }
}
