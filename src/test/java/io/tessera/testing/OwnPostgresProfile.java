package io.tessera.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.List;
import java.util.Map;

/** The application on a Postgres of its own, which the test may stop and start ({@link #postgres()}). */
public class OwnPostgresProfile implements QuarkusTestProfile {
    private static LocalPostgres postgres;

    public static LocalPostgres postgres() {
        return postgres;
    }

    @Override
    public Map<String, String> getConfigOverrides() {
        // short cache lifetimes, so the test sees the service go past them while Postgres is down
        return Map.of("tessera.registry.resolve-ttl", "1s", "tessera.security.key-cache-ttl", "1s");
    }

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(Resource.class));
    }

    public static class Resource implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            try {
                postgres = LocalPostgres.start();
            } catch (Exception e) {
                throw new IllegalStateException("own Postgres did not start", e);
            }
            return Map.of("quarkus.datasource.jdbc.url", postgres.jdbcUrl(), "quarkus.datasource.username", "tessera");
        }

        @Override
        public void stop() {
            try {
                postgres.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
