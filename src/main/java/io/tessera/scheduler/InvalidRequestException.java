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
}
