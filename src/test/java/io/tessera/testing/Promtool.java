package io.tessera.testing;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Prometheus' promtool (Debian's prometheus package; .ci/run installs it): the checks an operator would run. */
public final class Promtool {
    /** Its exit status and what it printed (stdout and stderr together). */
    public record Result(int exit, String output) {
    }

    private Promtool() {
    }

    /** Runs {@code promtool ARGS} in {@code dir} with {@code stdin} as its input; fails the test when it cannot start. */
    public static Result run(Path dir, String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("promtool"));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("promtool is needed: apt-get install prometheus (.ci/run installs it)", e);
        }
        // promtool reads all of stdin before it writes: a scrape is small, no second thread needed
        try (OutputStream in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(1, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " did not finish in a minute");
        }
        return new Result(p.exitValue(), output);
    }
}
