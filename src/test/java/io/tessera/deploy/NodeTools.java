package io.tessera.deploy;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The npm packages of the deployment checks (src/test/node/package.json, pinned by its package-lock.json),
 * installed with `npm install --no-audit --no-fund` into the git-ignored target/node-validate, once per lock file.
 * Without node or the npm registry the calling test fails: CI has both.
 */
final class NodeTools {
    private NodeTools() {
    }

    /** The install directory, ready to run node scripts from. */
    static synchronized Path install() throws Exception {
        Path root = DeployFiles.root();
        Path work = root.resolve("target/node-validate");
        Files.createDirectories(work);
        boolean fresh = !Files.isDirectory(work.resolve("node_modules"));
        for (String f : List.of("package.json", "package-lock.json", "validate.mjs")) {
            Path src = root.resolve("src/test/node").resolve(f);
            Path dst = work.resolve(f);
            if (f.startsWith("package") && (!Files.exists(dst) || Files.mismatch(src, dst) != -1)) {
                fresh = true;
            }
            Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
        }
        if (fresh) {
            run(work, Duration.ofMinutes(5), "npm", "install", "--no-audit", "--no-fund");
        }
        return work;
    }

    /** Runs a command, failing the test with its output when it cannot start, times out or exits non-zero. */
    static String run(Path dir, Duration limit, String... command) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError(command[0] + " is needed for the deployment checks: " + e.getMessage(), e);
        }
        p.getOutputStream().close();
        byte[] output = p.getInputStream().readAllBytes();
        if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " did not finish in " + limit);
        }
        String text = new String(output, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            fail(String.join(" ", command) + " failed (exit " + p.exitValue() + "):\n" + text);
        }
        return text;
    }
}
