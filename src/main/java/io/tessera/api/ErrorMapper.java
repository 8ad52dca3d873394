package io.tessera.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
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
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.NotSupportedException;
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

    /** The most of an unknown field's name (the client's) that param repeats. */
    private static final int MAX_PARAM = 128;
    private static final String GUIDED = "is vLLM's: Tessera constrains output through response_format (json_object, json_schema)";
    private static final String CHAT_TOOLS = "is a chat field: tools and tool_choice are taken by /v1/chat/completions";
    /** Unknown request fields clients often send, and what to do instead; any other gets the general message. */
    private static final Map<String, String> UNKNOWN_FIELD_HINTS = Map.ofEntries(
            Map.entry("adapter_id", "is not a Tessera field: an adapter is chosen by model (its name, or name@version)"),
            Map.entry("tools", CHAT_TOOLS),
            Map.entry("tool_choice", CHAT_TOOLS),
            Map.entry("parallel_tool_calls", "is not supported: an answer holds at most one tool call"),
            Map.entry("functions", "is OpenAI's deprecated form: use tools"),
            Map.entry("function_call", "is OpenAI's deprecated form: use tool_choice"),
            Map.entry("guided_json", GUIDED),
            Map.entry("guided_regex", GUIDED),
            Map.entry("guided_choice", GUIDED),
            Map.entry("guided_grammar", GUIDED));
    /** Refusals counted in tessera_requests_total: inference outcomes only, not the admin API's or unknown routes'. */
    private static final Set<Class<?>> INFERENCE = Set.of(CompletionsResource.class, ChatCompletionsResource.class);

    @Inject
    ServiceMetrics metrics;

    @Inject
    TesseraConfig config;

    // Jackson's, Quarkus Security's and JAX-RS routing's exceptions are named as well: the built-in mappers for them
    // (some answer without a body) would otherwise be the closer match
    @ServerExceptionMapper({Exception.class, JsonMappingException.class, MismatchedInputException.class,
        UnrecognizedPropertyException.class, AuthenticationFailedException.class, UnauthorizedException.class,
        ForbiddenException.class, NotFoundException.class, NotAllowedException.class, NotSupportedException.class})
    public Response map(Exception e, HttpServerRequest request, SimpleResourceInfo resource) {
        Throwable cause = unwrap(e);
        Kind kind = kind(cause);
        String requestId = RequestIds.of(request);
        ErrorDetail detail;
        if (cause instanceof WebApplicationException w && kind == INTERNAL) {
            // routing and content negotiation (unknown path 404, 405, 415): their status, an OpenAI body
            kind = routing(w.getResponse().getStatus());
            detail = new ErrorDetail(routingMessage(w, request), kind.type(), null, kind.code(), requestId);
        } else {
            if (kind.status() == 500) {
                LOG.errorf(cause, "request %s failed", requestId);
            }
            detail = detail(cause, kind, requestId);
        }
        Class<?> target = resource == null ? null : resource.getResourceClass();   // null: no route matched
        if (target != null && INFERENCE.contains(target)) {
            metrics.rejected(kind.code() != null ? kind.code() : kind.type());
        }
        Response.ResponseBuilder r = Response.status(kind.status()).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(new ErrorResponse(detail));
        if (cause instanceof RateLimitedException limited) {
            r.header(HttpHeaders.RETRY_AFTER, limited.retryAfterSeconds());
        } else if (kind.status() == 429) {
            r.header(HttpHeaders.RETRY_AFTER, Math.max(1, config.scheduler().retryAfter().toSeconds()));
        }
        return r.build();
    }

    /** The error body for a failure that reaches the client inside a stream already begun. */
    static ErrorResponse body(Throwable e, String requestId) {
        Throwable cause = unwrap(e);
        return new ErrorResponse(detail(cause, kind(cause), requestId));
    }

    private static Kind routing(int status) {
        return new Kind(status, "invalid_request_error", switch (status) {
            case 404 -> "unknown_url";
            case 405 -> "method_not_allowed";
            case 415 -> "unsupported_media_type";
            default -> null;
        });
    }

    /** Says what the server has instead; the method and path are the client's, so they are quoted bounded. */
    private static String routingMessage(WebApplicationException w, HttpServerRequest request) {
        String call = InvalidRequestException.quote(request.method().name() + " " + request.path());
        return switch (w.getResponse().getStatus()) {
            case 404 -> "no such endpoint: " + call + "; Tessera serves POST /v1/completions, POST /v1/chat/completions, "
                    + "GET /v1/models and the admin API under /v1/admin (the document is at /q/openapi)";
            case 405 -> "method not allowed: " + call + "; /q/openapi lists each path's methods";
            case 415 -> "Content-Type " + InvalidRequestException.quote(String.valueOf(request.getHeader(HttpHeaders.CONTENT_TYPE)))
                    + " is not accepted by " + call + ": send application/json (uploads: multipart/form-data)";
            default -> w.getMessage();
        };
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

    private static ErrorDetail detail(Throwable e, Kind kind, String requestId) {
        if (e instanceof InvalidRequestException i) {
            return new ErrorDetail(i.getMessage(), kind.type(), i.param(), kind.code(), requestId);
        }
        if (e instanceof ChatTemplateException) {
            return new ErrorDetail(e.getMessage(), kind.type(), "messages", kind.code(), requestId);
        }
        if (e instanceof JsonMappingException j && !j.getPath().isEmpty()) {
            String field = j.getPath().stream()
                    .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining(".")).replace(".[", "[");
            if (e instanceof UnrecognizedPropertyException u) {
                String hint = UNKNOWN_FIELD_HINTS.getOrDefault(u.getPropertyName(), "is not a field Tessera implements here; "
                        + "the accepted fields and extensions are listed in the API reference (/q/openapi)");
                // the name is the client's: param keeps a bounded piece of it
                String param = field.length() <= MAX_PARAM ? field : field.substring(0, MAX_PARAM);
                return new ErrorDetail(InvalidRequestException.quote(field) + " " + hint, kind.type(), param,
                        "unsupported_field", requestId);
            }
            return new ErrorDetail("invalid value for " + field + ": " + firstLine(j.getOriginalMessage()), kind.type(), field, kind.code(), requestId);
        }
        if (e instanceof JsonProcessingException j) {
            return new ErrorDetail("the body is not valid JSON: " + firstLine(j.getOriginalMessage()), kind.type(), null, kind.code(), requestId);
        }
        if (kind == INTERNAL) {
            return new ErrorDetail("internal error: " + e.getClass().getSimpleName(), kind.type(), null, null, requestId);
        }
        if (kind == UNAUTHENTICATED && !(e instanceof RegistryException)) {
            // Quarkus's own messages say nothing to an API client
            return new ErrorDetail("missing or invalid API key (Authorization: Bearer KEY)", kind.type(), null, kind.code(), requestId);
        }
        if (kind == FORBIDDEN && !(e instanceof RegistryException)) {
            // the only role refused is the tenant's, on calls for the operator
            return new ErrorDetail("this call needs the admin key", kind.type(), null, kind.code(), requestId);
        }
        if (e instanceof CheckpointException) {
            // the reason names files on the server: it goes to the log, not to the client
            return new ErrorDetail("the adapter could not be loaded; the server log has the reason", kind.type(), null, kind.code(), requestId);
        }
        return new ErrorDetail(e.getMessage(), kind.type(), null, kind.code(), requestId);
    }

    private static String firstLine(String s) {
        int nl = s == null ? -1 : s.indexOf('\n');
        return nl < 0 ? String.valueOf(s) : s.substring(0, nl);
    }
}
