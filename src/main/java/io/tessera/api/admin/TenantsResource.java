package io.tessera.api.admin;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.tessera.adapters.AdapterRegistry;
import io.tessera.adapters.RegistryException;
import io.tessera.security.Tenants;
import io.tessera.security.Tenants.IssuedKey;
import io.tessera.security.Tenants.KeyView;
import io.tessera.security.Tenants.TenantView;
import io.tessera.api.CurrentCaller;
import jakarta.inject.Inject;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import jakarta.ws.rs.DELETE;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;

@Tag(name = "Admin", description = "Tenants, adapters, usage and audit (bearer key: admin or tenant)")
@Path("/v1/admin/tenants")
public class TenantsResource {
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record CreateTenant(String name, Integer requestsPerMinute, Integer tokensPerMinute) {
    }

    @Inject
    Tenants tenants;
    @Inject
    CurrentCaller caller;

    @POST
    public Response create(CreateTenant body) {
        if (body == null) {
            throw new RegistryException(RegistryException.Problem.INVALID,
                    "body must be {\"name\": ...}");
        }
        IssuedKey key = tenants.create(caller.get(), body.name(), body.requestsPerMinute(), body.tokensPerMinute());
        return Response.status(201).entity(key).build();
    }

    @GET
    public Map<String, List<TenantView>> list() {
        return Map.of("data", tenants.list(caller.get()));
    }

    @POST
    @Path("/{name}/keys")
    public Response issueKey(@PathParam("name") String name) {
        AdapterRegistry.checkName("tenant name", name);
        return Response.status(201).entity(tenants.issueKey(caller.get(), name)).build();
    }

    /** Deletes a tenant with its keys and adapters. */
    @DELETE
    @APIResponse(responseCode = "204", description = "deleted, with its keys and adapters")
    @Path("/{name}")
    public Response delete(@PathParam("name") String name) {
        AdapterRegistry.checkName("tenant name", name);
        tenants.delete(caller.get(), name);
        return Response.noContent().build();
    }

    @GET
    @Path("/{name}/keys")
    public Map<String, List<KeyView>> keys(@PathParam("name") String name) {
        AdapterRegistry.checkName("tenant name", name);
        return Map.of("data", tenants.keys(caller.get(), name));
    }

    /** Revokes a key (key rotation: issue a new one, move clients over, revoke the old one). */
    @DELETE
    @APIResponse(responseCode = "204", description = "revoked (also when it already was)")
    @Path("/{name}/keys/{id}")
    public Response revokeKey(@PathParam("name") String name, @PathParam("id") long id) {
        AdapterRegistry.checkName("tenant name", name);
        tenants.revokeKey(caller.get(), name, id);
        return Response.noContent().build();
    }
}
