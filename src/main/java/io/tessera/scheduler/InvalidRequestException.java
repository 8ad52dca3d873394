package io.tessera.scheduler;

/** A request field the server cannot honour; {@code param} names it as the client sent it. */
public class InvalidRequestException extends RuntimeException {
    private final String param;

    public InvalidRequestException(String param, String message) {
        super(message);
        this.param = param;
    }

    public String param() {
        return param;
    }

    /** A client's value for a message: quoted, and cut short, since a body may hold megabytes of it. */
    public static String quote(String value) {
        return value.length() <= 64 ? "\"" + value + "\"" : "\"" + value.substring(0, 64) + "...\"";
    }
}
