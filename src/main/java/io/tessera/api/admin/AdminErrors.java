package io.tessera.api.admin;

import io.tessera.adapters.RegistryException;
import io.tessera.cluster.Counters;
import io.tessera.cluster.RateLimitedException;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Registry refusals as OpenAI error bodies. */
public class AdminErrors {

    @ServerExceptionMapper
    public Response map(RateLimitedException e) {
        return Response.status(429).header("Retry-After", e.retryAfterSeconds())
                .entity(Map.of("error", body(e.getMessage(), "rate_limit_error", "rate_limit_exceeded"))).build();
    }

    @ServerExceptionMapper
    public Response map(Counters.RedisDownException e) {
        return Response.status(503).header("Retry-After", "5")
                .entity(Map.of("error", body("usage counters are unavailable (Redis): " + e.getMessage(), "service_unavailable", null)))
                .build();
    }

    private static Map<String, Object> body(String message, String type, String code) {
        Map<String, Object> error = new java.util.LinkedHashMap<>();
        error.put("message", message);
        error.put("type", type);
        error.put("param", null);
        error.put("code", code);
        return error;
    }

    @ServerExceptionMapper
    public Response map(RegistryException e) {
        int status = switch (e.problem()) {
            case INVALID -> 400;
            case UNAUTHENTICATED -> 401;
            case FORBIDDEN -> 403;
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case TOO_LARGE -> 413;
            case REJECTED -> 422;
            case UNAVAILABLE -> 503;
        };
        String type = switch (e.problem()) {
            case UNAUTHENTICATED -> "authentication_error";
            case FORBIDDEN -> "permission_error";
            case UNAVAILABLE -> "service_unavailable";
            default -> "invalid_request_error";
        };
        Response.ResponseBuilder r = Response.status(status).entity(Map.of("error",
                body(e.getMessage(), type, e.problem().name().toLowerCase(java.util.Locale.ROOT))));
        if (status == 503) {
            r.header("Retry-After", "5");
        }
        return r.build();
    }
}
