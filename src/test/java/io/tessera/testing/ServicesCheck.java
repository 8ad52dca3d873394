package io.tessera.testing;

import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.TestAbortedException;

/**
 * Registered for every test class (META-INF/services, junit-platform.properties): a class that needs the test
 * services (@QuarkusTest, @NeedsServices) without their variables fails at once with the command that starts them,
 * instead of falling back to an embedded Postgres or in-process counters. The first such class fails, the others
 * are skipped: one message, not one per class.
 */
public final class ServicesCheck implements BeforeAllCallback {
    static final List<String> VARIABLES = List.of("TESSERA_TEST_PG_URL", "TESSERA_TEST_REDIS_URL");
    private static final AtomicBoolean REPORTED = new AtomicBoolean();

    @Override
    public void beforeAll(ExtensionContext context) {
        if (!needsServices(context.getRequiredTestClass())) {
            return;
        }
        List<String> missing = VARIABLES.stream().filter(v -> System.getenv(v) == null || System.getenv(v).isBlank()).toList();
        if (missing.isEmpty()) {
            return;
        }
        if (REPORTED.compareAndSet(false, true)) {
            throw new IllegalStateException("The tests need Postgres 15 and Redis (" + String.join(", ", missing) + " unset). "
                    + "Run the tests with .ci/run (it installs and starts both, then runs mvn -B verify), or start them "
                    + "first: eval \"$(.ci/services start)\"");
        }
        throw new TestAbortedException("the test services are missing: see the first failure");
    }

    private static boolean needsServices(Class<?> c) {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            if (k.isAnnotationPresent(QuarkusTest.class) || k.isAnnotationPresent(NeedsServices.class)) {
                return true;
            }
        }
        return false;
    }
}
