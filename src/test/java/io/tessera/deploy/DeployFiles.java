package io.tessera.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Shared by the deployment tests: the project root, Quarkus durations, the environment-variable check. */
final class DeployFiles {
    private DeployFiles() {
    }

    static Path root() {
        return Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    }

    /** A Quarkus duration: "120s", "2m", "500ms", "1h", "3S", a plain number (seconds) or ISO-8601 ("PT2M"). */
    static Duration duration(String text) {
        String s = text.trim();
        if (s.matches("\\d+")) {
            return Duration.ofSeconds(Long.parseLong(s));
        }
        if (s.toUpperCase(Locale.ROOT).startsWith("P")) {
            return Duration.parse(s.toUpperCase(Locale.ROOT));
        }
        Matcher m = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)", Pattern.CASE_INSENSITIVE).matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a duration: " + text);
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
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
     * application.properties. The timeout must be set somewhere: Quarkus' default waits for no request.
     */
    static Shutdown shutdown(Map<String, String> env) throws IOException {
        java.util.Properties app = new java.util.Properties();
        try (var r = Files.newBufferedReader(root().resolve("src/main/resources/application.properties"))) {
            app.load(r);
        }
        String timeout = env.getOrDefault("QUARKUS_SHUTDOWN_TIMEOUT", app.getProperty("quarkus.shutdown.timeout"));
        if (timeout == null) {
            throw new AssertionError("quarkus.shutdown.timeout is set neither in the environment nor in application.properties");
        }
        Duration delay = Duration.ZERO;
        if (Boolean.parseBoolean(app.getProperty("quarkus.shutdown.delay-enabled", "false"))) {
            String d = env.getOrDefault("QUARKUS_SHUTDOWN_DELAY", app.getProperty("quarkus.shutdown.delay"));
            delay = d == null ? Duration.ZERO : duration(d);
        }
        return new Shutdown(delay, duration(timeout));
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
