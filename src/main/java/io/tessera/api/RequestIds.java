package io.tessera.api;

import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.UUID;

/**
 * Every request has an id: the client's {@code X-Request-Id} when it is at most {@value #MAX_LENGTH} letters, digits,
 * '-', '_', '.' or ':' (anything else could forge or break a log line), otherwise a new {@code req_...}. It is set as
 * the response's {@code X-Request-Id} header before anything else runs, so every response has it (errors, unknown
 * routes and streams included) and the rest of the service reads it from there ({@link #of}).
 */
@ApplicationScoped
public class RequestIds {
    public static final String HEADER = "X-Request-Id";
    static final int MAX_LENGTH = 128;
    /** Before Quarkus' own filters (security, CORS): a refused request carries its id too. */
    private static final int PRIORITY = 1000;

    void install(@Observes Filters filters) {
        filters.register(rc -> {
            rc.response().headers().set(HEADER, accept(rc.request().getHeader(HEADER)));
            rc.next();
        }, PRIORITY);
    }

    /** The client's id when it is safe, else a new one; the length is checked before any character is looked at. */
    static String accept(String given) {
        if (given == null || given.isEmpty() || given.length() > MAX_LENGTH) {
            return generate();
        }
        for (int i = 0; i < given.length(); i++) {
            char c = given.charAt(i);
            boolean safe = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || c == '-' || c == '_' || c == '.' || c == ':';
            if (!safe) {
                return generate();
            }
        }
        return given;
    }

    private static String generate() {
        return "req_" + UUID.randomUUID().toString().replace("-", "");
    }

    /** The id of the request being served. */
    static String of(HttpServerRequest request) {
        return request.response().headers().get(HEADER);
    }
}
