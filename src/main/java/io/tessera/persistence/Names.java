package io.tessera.persistence;

import static io.tessera.persistence.RegistryException.Problem.INVALID;

import io.tessera.engine.adapter.AdapterLoader;
import java.util.regex.Pattern;

/** The names tenants and adapters may have: checked before they reach SQL, a path or the log. */
public final class Names {
    /** One path segment that is safe anywhere: no '/', no '..', nothing a shell or URL would reinterpret. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private Names() {
    }

    /**
     * Refuses a name that no tenant or adapter can have (400), before it reaches SQL: Postgres itself fails on NUL,
     * and control characters would reach the log.
     */
    public static void check(String what, String name) {
        if (!isName(name)) {
            throw new RegistryException(INVALID, what + " '" + (name == null ? null : AdapterLoader.brief(name))
                    + "' is not allowed: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, without '/' or '..'");
        }
    }

    /** Whether a tenant or an adapter can have this name. */
    public static boolean isName(String name) {
        return name != null && NAME.matcher(name).matches() && !name.contains("..");
    }
}
