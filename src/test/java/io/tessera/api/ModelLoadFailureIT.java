package io.tessera.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.testing.NeedsServices;
import io.tessera.testing.Replica;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A model that fails to load ends the process with a non-zero status and one log line that names the cause, so that
 * an orchestrator restarts it (issue 11, item 11) instead of keeping a process that is live and never ready.
 */
@NeedsServices
class ModelLoadFailureIT {
    private static final Path DEMO = Path.of("models", "demo-llama");

    @Test
    void truncatedWeightsEndTheProcess() throws Exception {
        Path model = copyOfDemo("truncated");
        Path weights = model.resolve("model.safetensors");
        try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 1000);
        }
        assertExitsNamingTheCause("load-truncated", model, weights.toString(), "truncated");
    }

    @Test
    void aBadConfigEndsTheProcess() throws Exception {
        Path model = copyOfDemo("bad-config");
        Path config = model.resolve("config.json");
        Files.writeString(config, "{\"hidden_size\": ");
        assertExitsNamingTheCause("load-bad-config", model, config.toString(), "not valid JSON");
    }

    private static void assertExitsNamingTheCause(String name, Path model, String file, String problem) throws Exception {
        String pg = System.getenv("TESSERA_TEST_PG_URL");
        assertThat(pg).as("TESSERA_TEST_PG_URL (see .ci/services)").isNotBlank();
        Replica r = Replica.launch(name, Map.of("tessera.model", model.toString(), "quarkus.datasource.jdbc.url", pg,
                "quarkus.datasource.username", System.getenv().getOrDefault("TESSERA_TEST_PG_USER", "tessera"),
                "tessera.security.admin-key", "it-admin-key", "tessera.registry.seed-dir", "",
                "tessera.store.root", "target/it-load-store", "tessera.registry.work-dir", "target/it-" + name));
        try {
            Optional<Integer> status = r.awaitExit(Duration.ofMinutes(2));
            assertThat(status).as("exited within 2 minutes; log:\n" + r.log()).isPresent();
            assertThat(status.get()).as("exit status").isNotZero();
            List<String> naming = r.log().lines().filter(l -> l.contains(file)).toList();
            assertThat(naming).as("lines naming " + file + " in:\n" + r.log()).hasSize(1);
            assertThat(naming.get(0)).contains("ERROR", "failed to load").contains(problem);
        } finally {
            r.close();
        }
    }

    private static Path copyOfDemo(String name) throws IOException {
        Path dir = Path.of("target", "it-broken-models", name, "demo-llama");
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(DEMO)) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return dir;
    }
}
