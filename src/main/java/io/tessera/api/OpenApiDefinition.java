package io.tessera.api;

import jakarta.ws.rs.core.Application;
import org.eclipse.microprofile.openapi.annotations.OpenAPIDefinition;
import org.eclipse.microprofile.openapi.annotations.Components;
import org.eclipse.microprofile.openapi.annotations.info.Info;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.enums.SecuritySchemeType;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityScheme;
import org.eclipse.microprofile.openapi.annotations.servers.Server;

/**
 * The document's header, its security scheme (the bearer key: a tenant's or the admin key; each operation's roles
 * are added by Quarkus, the refusals they bring by {@link OpenApiStatuses}) and the OpenAI error responses the
 * endpoints refer to.
 */
@OpenAPIDefinition(
        info = @Info(title = "Tessera", version = "1", description = "OpenAI-compatible inference with per-tenant adapters. "
                + "Request fields beyond OpenAI's are the extensions attention, ignore_eos, top_k, min_p and "
                + "repetition_penalty; any other field Tessera does not implement is a 400 naming it in param (code "
                + "unsupported_field), never ignored. Every response carries X-Request-Id: the request's own when it is at "
                + "most 128 letters, digits, '-', '_', '.' or ':', else a generated one; error bodies repeat it as "
                + "error.request_id."),
        servers = @Server(url = "/", description = "The service that serves this document"),
        components = @Components(securitySchemes = @SecurityScheme(securitySchemeName = OpenApiDefinition.BEARER,
                type = SecuritySchemeType.HTTP, scheme = "bearer",
                description = "A tenant's API key (tsk_...), or the admin key (tessera.security.admin-key)"),
            responses = {
            @APIResponse(name = "InvalidRequest", responseCode = "400",
                    description = "A field is invalid (param names it), or prompt + max_tokens exceed the context",
                    content = @Content(mediaType = "application/json", schema = @Schema(implementation = ErrorResponse.class))),
            @APIResponse(name = "BadParameter", responseCode = "400",
                    description = "A parameter is missing or invalid, such as the tenant the admin key must name",
                    content = @Content(mediaType = "application/json", schema = @Schema(implementation = ErrorResponse.class))),
            @APIResponse(name = "Unauthenticated", responseCode = "401",
                    description = "No bearer key, or one that is unknown or revoked (code invalid_api_key)",
                    content = @Content(mediaType = "application/json", schema = @Schema(implementation = ErrorResponse.class))),
            @APIResponse(name = "Forbidden", responseCode = "403",
                    description = "A tenant key on a call for the admin key, or naming another tenant (code forbidden)",
                    content = @Content(mediaType = "application/json", schema = @Schema(implementation = ErrorResponse.class))),
            @APIResponse(name = "NotFound", responseCode = "404", description = "No such tenant, adapter, version or key",
                    content = @Content(mediaType = "application/json", schema = @Schema(implementation = ErrorResponse.class))),
            @APIResponse(name = "ModelNotFound", responseCode = "404", description = "No such model or adapter for the caller",
                    content = @Content(mediaType = "application/json", schema = @Schema(implementation = ErrorResponse.class))),
            @APIResponse(name = "RequestTooLarge", responseCode = "413",
                    description = "The body is larger than this server's limit: tessera.api.max-request-bytes for inference, "
                            + "tessera.registry.max-upload-bytes otherwise",
                    content = @Content(mediaType = "application/json", schema = @Schema(implementation = ErrorResponse.class))),
            @APIResponse(name = "QueueFull", responseCode = "429", description = "The queue is full; retry after Retry-After seconds",
                    content = @Content(mediaType = "application/json", schema = @Schema(implementation = ErrorResponse.class))),
            @APIResponse(name = "Unavailable", responseCode = "503", description = "The model is loading or the server is shutting down",
                    content = @Content(mediaType = "application/json", schema = @Schema(implementation = ErrorResponse.class))),
            @APIResponse(name = "UnsupportedMediaType", responseCode = "415",
                    description = "A Content-Type the operation does not read (code unsupported_media_type)",
                    content = @Content(mediaType = "application/json", schema = @Schema(implementation = ErrorResponse.class))),
            @APIResponse(name = "RegistryUnavailable", responseCode = "503",
                    description = "Postgres, which holds tenants, keys and adapters, is unreachable (code registry_unavailable)",
                    content = @Content(mediaType = "application/json", schema = @Schema(implementation = ErrorResponse.class))),
            @APIResponse(name = "Timeout", responseCode = "504", description = "Not finished within tessera.scheduler.request-timeout",
                    content = @Content(mediaType = "application/json", schema = @Schema(implementation = ErrorResponse.class)))}))
public class OpenApiDefinition extends Application {
    static final String BEARER = "bearer";
}
