package io.tessera.persistence;

/** A refused registry call: {@link Problem} says which kind (the API maps it to a status), the message says what. */
public class RegistryException extends RuntimeException {
    public enum Problem {
        /** malformed request: bad name, unsafe archive entry, not an archive (400) */
        INVALID,
        /** no key, or an unknown one (401) */
        UNAUTHENTICATED,
        /** the caller may not do this (403) */
        FORBIDDEN,
        /** no such tenant, adapter or version for this caller (404) */
        NOT_FOUND,
        /** the name is taken (409) */
        CONFLICT,
        /** archive over a size, count or ratio bound (413) */
        TOO_LARGE,
        /** well-formed archive whose adapter cannot be served on this base model (422) */
        REJECTED,
        /** metadata store unreachable (503) */
        UNAVAILABLE
    }

    private final Problem problem;

    public RegistryException(Problem problem, String message) {
        super(message);
        this.problem = problem;
    }

    public RegistryException(Problem problem, String message, Throwable cause) {
        super(message, cause);
        this.problem = problem;
    }

    public Problem problem() {
        return problem;
    }
}
