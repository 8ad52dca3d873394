package io.tessera.api;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * The inference endpoints answer JSON or server-sent events as the body's {@code stream} field says, whatever the
 * client's Accept header (the openai clients send application/json for streams too; SSE clients send
 * text/event-stream): negotiation must not refuse either.
 */
public class BodyDecidesMediaType {

    @ServerRequestFilter(preMatching = true)
    public void acceptAnything(ContainerRequestContext request) {
        String path = request.getUriInfo().getPath();
        if ("POST".equals(request.getMethod()) && (path.equals("/v1/completions") || path.equals("/v1/chat/completions"))) {
            request.getHeaders().putSingle(HttpHeaders.ACCEPT, MediaType.WILDCARD);
        }
    }
}
