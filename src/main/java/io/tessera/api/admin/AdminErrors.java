package io.tessera.api.admin;

import io.tessera.adapters.RegistryException;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Registry refusals as OpenAI error bodies. */
public class AdminErrors {

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
        Map<String, Object> error = new java.util.LinkedHashMap<>();
        error.put("message", e.getMessage());
        error.put("type", type);
        error.put("param", null);
        error.put("code", e.problem().name().toLowerCase(java.util.Locale.ROOT));
        Response.ResponseBuilder r = Response.status(status).entity(Map.of("error", error));
        if (status == 503) {
            r.header("Retry-After", "5");
        }
        return r.build();
    }
}
