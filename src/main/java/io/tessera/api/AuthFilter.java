package io.tessera.api;

import io.tessera.adapters.RegistryException;
import io.tessera.security.ApiKeys;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Every /v1 call needs a bearer key: a tenant's key (inference and admin calls act on that tenant only), or the
 * admin key (operator calls; inference with it reaches the base model only).
 */
public class AuthFilter {
    @Inject
    ApiKeys keys;
    @Inject
    CurrentCaller current;

    @ServerRequestFilter
    public void authenticate(ContainerRequestContext request) {
        if (!request.getUriInfo().getPath().startsWith("/v1/")) {
            return;
        }
        current.set(keys.resolve(request.getHeaderString(HttpHeaders.AUTHORIZATION)).orElseThrow(() ->
                new RegistryException(RegistryException.Problem.UNAUTHENTICATED,
                        "missing or invalid API key (Authorization: Bearer KEY)")));
    }
}
