package io.tessera.testing;

import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Registered for every test class (META-INF/services; quarkus-junit's junit-platform.properties turns extension
 * auto-detection on, and a second such file would hide its class orderer): a class that needs the test
 * services (@QuarkusTest, @NeedsServices) without their variables fails at once with the command that starts them,
 * instead of falling back to an embedded Postgres or in-process counters. The first such class fails, the others
 * are skipped: one message, not one per class.
 */
public final class ServicesCheck implements BeforeAllCallback, ExecutionCondition {
    static final List<String> VARIABLES = List.of("TESSERA_TEST_PG_URL", "TESSERA_TEST_REDIS_URL");
    private static final AtomicBoolean REPORTED = new AtomicBoolean();
    private static final Set<String> MARKS = Set.of(QuarkusTest.class.getName(), NeedsServices.class.getName());

    @Override
    public void beforeAll(ExtensionContext context) {
        if (!needsServices(context.getRequiredTestClass())) {
            return;
        }
        Optional<String> problem = problem(System.getenv());
        if (problem.isEmpty()) {
            return;
        }
        REPORTED.set(true);
        throw new IllegalStateException(problem.get());
    }

    /** After the first failure the other classes that need the services are skipped, before anything starts. */
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        boolean skip = REPORTED.get() && context.getTestClass().filter(ServicesCheck::needsServices).isPresent();
        return skip ? ConditionEvaluationResult.disabled("the test services are missing: see the first failure")
                : ConditionEvaluationResult.enabled("");
    }

    /** What is wrong with this environment for a test that needs the services, if anything. */
    static Optional<String> problem(Map<String, String> env) {
        List<String> missing = VARIABLES.stream().filter(v -> env.get(v) == null || env.get(v).isBlank()).toList();
        if (missing.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("The tests need Postgres 15 and Redis (" + String.join(", ", missing) + " unset). Run the tests "
                + "with .ci/run (it installs and starts both, then runs mvn -B verify), or start them first: "
                + "eval \"$(.ci/services start)\"");
    }

    static boolean needsServices(Class<?> c) {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            for (var a : k.getAnnotations()) {
                // by name: a @QuarkusTest class is loaded by Quarkus' class loader, its annotations too
                if (MARKS.contains(a.annotationType().getName())) {
                    return true;
                }
            }
        }
        return false;
    }
}
