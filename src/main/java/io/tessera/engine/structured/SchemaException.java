package io.tessera.engine.structured;

/**
 * A schema the constrained decoder cannot guarantee: an unsupported keyword (named in {@link #keyword()}), a
 * recursive {@code $ref}, or constraints no value satisfies. The HTTP layer answers it with a 400.
 */
public final class SchemaException extends IllegalArgumentException {

    private final String keyword;

    public SchemaException(String keyword, String message) {
        super(message);
        this.keyword = keyword;
    }

    /** The offending keyword, or null when the problem is not one keyword. */
    public String keyword() {
        return keyword;
    }
}
