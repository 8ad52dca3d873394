package io.tessera.api.admin;

import io.tessera.adapters.RegistryException;
import io.tessera.security.ApiKeys;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/** Admin calls need a bearer key: the admin key, or a tenant's key (which then acts on that tenant only). */
public class AdminAuthFilter {
    @Inject
    ApiKeys keys;
    @Inject
    CurrentCaller current;

    @ServerRequestFilter
    public void authenticate(ContainerRequestContext request) {
        if (!request.getUriInfo().getPath().startsWith("/v1/admin")) {
            return;
        }
        current.set(keys.resolve(request.getHeaderString(HttpHeaders.AUTHORIZATION)).orElseThrow(() ->
                new RegistryException(RegistryException.Problem.UNAUTHENTICATED,
                        "missing or invalid API key (Authorization: Bearer KEY)")));
    }
}
