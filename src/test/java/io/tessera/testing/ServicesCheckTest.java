package io.tessera.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.api.admin.AdminApi;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.Extension;

/**
 * Without the services' variables a test that needs them fails with the command to use; tests that do not need
 * them run anyway; the check is registered for every test class.
 */
class ServicesCheckTest {

    @Test
    void missingVariablesNameTheCommandThatStartsTheServices() {
        assertThat(ServicesCheck.problem(Map.of("TESSERA_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/tessera")))
                .hasValueSatisfying(m -> assertThat(m).contains("TESSERA_TEST_REDIS_URL unset").contains(".ci/run")
                        .contains("eval \"$(.ci/services start)\"").doesNotContain("TESSERA_TEST_PG_URL"));
        assertThat(ServicesCheck.problem(Map.of("TESSERA_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/tessera",
                "TESSERA_TEST_REDIS_URL", "redis://127.0.0.1:6379"))).isEmpty();
    }

    @Test
    void quarkusTestsAndMarkedTestsNeedTheServices() throws Exception {
        assertThat(ServicesCheck.needsServices(Class.forName("io.tessera.api.ObservabilityApiTest"))).isTrue();
        assertThat(ServicesCheck.needsServices(Class.forName("io.tessera.api.ReplicasIT"))).isTrue();
        assertThat(ServicesCheck.needsServices(ServicesCheckTest.class)).isFalse();
        assertThat(ServicesCheck.needsServices(AdminApi.class)).isFalse();
    }

    @Test
    void registeredForEveryTestClass() {
        assertThat(ServiceLoader.load(Extension.class).stream().map(ServiceLoader.Provider::type))
                .contains(ServicesCheck.class);
        assertThat(getClass().getResource("/junit-platform.properties")).as("quarkus-junit's turns auto-detection on")
                .isNotNull();
    }
}
