package io.tessera.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import io.tessera.adapters.AdapterFetchException;
import io.tessera.api.ErrorResponse.ErrorDetail;
import io.tessera.cluster.Counters;
import io.tessera.cluster.RateLimitedException;
import io.tessera.config.TesseraConfig;
import io.tessera.engine.safetensors.CheckpointException;
import io.tessera.engine.tokenizer.ChatTemplateException;
import io.tessera.persistence.RegistryException;
import io.tessera.scheduler.ContextLengthException;
import io.tessera.scheduler.InvalidRequestException;
import io.tessera.scheduler.QueueFullException;
import io.tessera.scheduler.RequestTimeoutException;
import io.tessera.scheduler.UnavailableException;
import io.tessera.service.ServiceMetrics;
import io.tessera.store.InsufficientStorageException;
import jakarta.inject.Inject;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;
import org.jboss.resteasy.reactive.server.SimpleResourceInfo;

/** The one place exceptions become HTTP responses: OpenAI error bodies, with the status each kind of failure gets. */
public class ErrorMapper {
    private static final Logger LOG = Logger.getLogger(ErrorMapper.class);

    /** What a failure is for the client. */
    record Kind(int status, String type, String code) {
    }

    private static final Kind UNAUTHENTICATED = new Kind(401, "authentication_error", "invalid_api_key");
    private static final Kind FORBIDDEN = new Kind(403, "permission_error", "forbidden");

    /** Domain exceptions to their kind; the nearest superclass listed decides. */
    private static final Map<Class<? extends Throwable>, Kind> KINDS = new LinkedHashMap<>();

    static {
        KINDS.put(ContextLengthException.class, new Kind(400, "invalid_request_error", "context_length_exceeded"));
        KINDS.put(InvalidRequestException.class, new Kind(400, "invalid_request_error", null));
        KINDS.put(ChatTemplateException.class, new Kind(400, "invalid_request_error", "chat_template_error"));
        KINDS.put(JsonProcessingException.class, new Kind(400, "invalid_request_error", "invalid_json"));
        KINDS.put(ModelNotFoundException.class, new Kind(404, "invalid_request_error", "model_not_found"));
        KINDS.put(RequestSizeLimit.TooLargeException.class, new Kind(413, "invalid_request_error", "request_too_large"));
        KINDS.put(QueueFullException.class, new Kind(429, "rate_limit_error", "queue_full"));
        KINDS.put(UnavailableException.class, new Kind(503, "service_unavailable", null));
        KINDS.put(RequestTimeoutException.class, new Kind(504, "server_error", "request_timeout"));
        // an adapter on the server that cannot be loaded is the server's fault, not the request's
        KINDS.put(CheckpointException.class, new Kind(500, "server_error", "adapter_unavailable"));
        // its blob cannot be fetched now (store down, or bytes that fail their hash): maybe later
        KINDS.put(AdapterFetchException.class, new Kind(503, "service_unavailable", "adapter_unavailable"));
        KINDS.put(RateLimitedException.class, new Kind(429, "rate_limit_error", "rate_limit_exceeded"));
        KINDS.put(Counters.RedisDownException.class, new Kind(503, "service_unavailable", "redis_unavailable"));
        // a checked IOException reaching a mapper comes from reading the request body (a malformed multipart body, a
        // client gone mid-upload): the resources wrap the service's own I/O failures, which stay 500s
        KINDS.put(IOException.class, new Kind(400, "invalid_request_error", "invalid_body"));
        KINDS.put(InsufficientStorageException.class, new Kind(507, "server_error", "insufficient_storage"));
        // Quarkus Security: a key that is unknown or revoked, none at all, or a role that may not make the call
        KINDS.put(AuthenticationFailedException.class, UNAUTHENTICATED);
        KINDS.put(UnauthorizedException.class, UNAUTHENTICATED);
        KINDS.put(ForbiddenException.class, FORBIDDEN);
    }

    /** Registry refusals: the kind follows the problem. */
    private static final Map<RegistryException.Problem, Kind> REGISTRY = Map.of(
            RegistryException.Problem.INVALID, new Kind(400, "invalid_request_error", "invalid"),
            RegistryException.Problem.UNAUTHENTICATED, UNAUTHENTICATED,
            RegistryException.Problem.FORBIDDEN, FORBIDDEN,
            RegistryException.Problem.NOT_FOUND, new Kind(404, "invalid_request_error", "not_found"),
            RegistryException.Problem.CONFLICT, new Kind(409, "invalid_request_error", "conflict"),
            RegistryException.Problem.TOO_LARGE, new Kind(413, "invalid_request_error", "too_large"),
            RegistryException.Problem.REJECTED, new Kind(422, "invalid_request_error", "adapter_rejected"),
            RegistryException.Problem.UNAVAILABLE, new Kind(503, "service_unavailable", "registry_unavailable"));

    private static final Kind INTERNAL = new Kind(500, "server_error", null);

    /** Refusals counted in tessera_requests_total: inference outcomes only, not the admin API's or unknown routes'. */
    private static final Set<Class<?>> INFERENCE = Set.of(CompletionsResource.class, ChatCompletionsResource.class);

    @Inject
    ServiceMetrics metrics;

    @Inject
    TesseraConfig config;

    // Jackson's and Quarkus Security's exceptions are named as well: the built-in mappers for them (the latter answer
    // without a body) would otherwise be the closer match
    @ServerExceptionMapper({Exception.class, JsonMappingException.class, MismatchedInputException.class,
        AuthenticationFailedException.class, UnauthorizedException.class, ForbiddenException.class})
    public Response map(Exception e, SimpleResourceInfo resource) {
        Throwable cause = unwrap(e);
        Kind kind = kind(cause);
        if (cause instanceof WebApplicationException w && kind == INTERNAL) {
            // routing and content negotiation (unknown path 404, 405, 415): their status, an OpenAI body
            kind = new Kind(w.getResponse().getStatus(), "invalid_request_error", null);
        } else if (kind.status() == 500) {
            LOG.error("request failed", cause);
        }
        Class<?> target = resource == null ? null : resource.getResourceClass();   // null: no route matched
        if (target != null && INFERENCE.contains(target)) {
            metrics.rejected(kind.code() != null ? kind.code() : kind.type());
        }
        Response.ResponseBuilder r = Response.status(kind.status()).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(new ErrorResponse(detail(cause, kind)));
        if (cause instanceof RateLimitedException limited) {
            r.header(HttpHeaders.RETRY_AFTER, limited.retryAfterSeconds());
        } else if (kind.status() == 429) {
            r.header(HttpHeaders.RETRY_AFTER, Math.max(1, config.scheduler().retryAfter().toSeconds()));
        }
        return r.build();
    }

    /** The error body for a failure that reaches the client inside a stream already begun. */
    static ErrorResponse body(Throwable e) {
        Throwable cause = unwrap(e);
        return new ErrorResponse(detail(cause, kind(cause)));
    }

    /** JSON errors arrive wrapped by the body reader. */
    private static Throwable unwrap(Throwable e) {
        if (e instanceof WebApplicationException && e.getCause() instanceof JsonProcessingException j) {
            return j;
        }
        return e;
    }

    private static Kind kind(Throwable e) {
        if (e instanceof RegistryException r) {
            return REGISTRY.get(r.problem());
        }
        for (Class<?> c = e.getClass(); c != null; c = c.getSuperclass()) {
            Kind k = KINDS.get(c);
            if (k != null) {
                return k;
            }
        }
        return INTERNAL;
    }

    private static ErrorDetail detail(Throwable e, Kind kind) {
        if (e instanceof InvalidRequestException i) {
            return new ErrorDetail(i.getMessage(), kind.type(), i.param(), kind.code());
        }
        if (e instanceof ChatTemplateException) {
            return new ErrorDetail(e.getMessage(), kind.type(), "messages", kind.code());
        }
        if (e instanceof JsonMappingException j && !j.getPath().isEmpty()) {
            String field = j.getPath().stream()
                    .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining(".")).replace(".[", "[");
            return new ErrorDetail("invalid value for " + field + ": " + firstLine(j.getOriginalMessage()), kind.type(), field, kind.code());
        }
        if (e instanceof JsonProcessingException j) {
            return new ErrorDetail("the body is not valid JSON: " + firstLine(j.getOriginalMessage()), kind.type(), null, kind.code());
        }
        if (kind == INTERNAL) {
            return new ErrorDetail("internal error: " + e.getClass().getSimpleName(), kind.type(), null, null);
        }
        if (kind == UNAUTHENTICATED && !(e instanceof RegistryException)) {
            // Quarkus's own messages say nothing to an API client
            return new ErrorDetail("missing or invalid API key (Authorization: Bearer KEY)", kind.type(), null, kind.code());
        }
        if (kind == FORBIDDEN && !(e instanceof RegistryException)) {
            // the only role refused is the tenant's, on calls for the operator
            return new ErrorDetail("this call needs the admin key", kind.type(), null, kind.code());
        }
        if (e instanceof CheckpointException) {
            // the reason names files on the server: it goes to the log, not to the client
            return new ErrorDetail("the adapter could not be loaded; the server log has the reason", kind.type(), null, kind.code());
        }
        return new ErrorDetail(e.getMessage(), kind.type(), null, kind.code());
    }

    private static String firstLine(String s) {
        int nl = s == null ? -1 : s.indexOf('\n');
        return nl < 0 ? String.valueOf(s) : s.substring(0, nl);
    }
}
