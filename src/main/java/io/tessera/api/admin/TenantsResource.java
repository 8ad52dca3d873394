package io.tessera.api.admin;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.quarkus.security.identity.SecurityIdentity;
import io.tessera.adapters.TenantDeletion;
import io.tessera.api.ErrorResponse;
import io.tessera.persistence.Names;
import io.tessera.persistence.RegistryException;
import io.tessera.security.Caller;
import io.tessera.security.Tenants.IssuedKey;
import io.tessera.security.Tenants.KeyView;
import io.tessera.security.Tenants.TenantView;
import io.tessera.security.Tenants;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

@Tag(name = "Admin", description = "Tenants, adapters, usage and audit (bearer key: admin or tenant)")
@Path("/v1/admin/tenants")
@RolesAllowed(Caller.ADMIN_ROLE)
public class TenantsResource {
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record CreateTenant(String name, Integer requestsPerMinute, Integer tokensPerMinute) {
    }

    @Inject
    Tenants tenants;
    @Inject
    TenantDeletion deletion;
    @Inject
    SecurityIdentity identity;

    @POST
    @APIResponse(responseCode = "201", description = "created, with its first key (shown this once)",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = IssuedKey.class)))
    @APIResponse(responseCode = "409", description = "the name is taken",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ErrorResponse.class)))
    @Operation(operationId = "createTenant")
    public Response create(CreateTenant body) {
        if (body == null) {
            throw new RegistryException(RegistryException.Problem.INVALID,
                    "body must be {\"name\": ...}");
        }
        IssuedKey key = tenants.create(Caller.of(identity), body.name(), body.requestsPerMinute(), body.tokensPerMinute());
        return Response.status(201).entity(key).build();
    }

    @GET
    @Operation(operationId = "listTenants")
    public Map<String, List<TenantView>> list() {
        return Map.of("data", tenants.list());
    }

    @POST
    @Path("/{name}/keys")
    @APIResponse(responseCode = "201", description = "a new key (shown this once)",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = IssuedKey.class)))
    @Operation(operationId = "issueKey")
    public Response issueKey(@PathParam("name") String name) {
        Names.check("tenant name", name);
        return Response.status(201).entity(tenants.issueKey(Caller.of(identity), name)).build();
    }

    /** Deletes a tenant with its keys and adapters. */
    @DELETE
    @APIResponse(responseCode = "204", description = "deleted, with its keys and adapters")
    @Path("/{name}")
    @Operation(operationId = "deleteTenant")
    public Response delete(@PathParam("name") String name) {
        Names.check("tenant name", name);
        deletion.delete(Caller.of(identity), name);
        return Response.noContent().build();
    }

    @GET
    @Path("/{name}/keys")
    @Operation(operationId = "listKeys")
    public Map<String, List<KeyView>> keys(@PathParam("name") String name) {
        Names.check("tenant name", name);
        return Map.of("data", tenants.keys(name));
    }

    /** Revokes a key (key rotation: issue a new one, move clients over, revoke the old one). */
    @DELETE
    @APIResponse(responseCode = "204", description = "revoked (also when it already was)")
    @Path("/{name}/keys/{id}")
    @Operation(operationId = "revokeKey")
    public Response revokeKey(@PathParam("name") String name, @PathParam("id") long id) {
        Names.check("tenant name", name);
        tenants.revokeKey(Caller.of(identity), name, id);
        return Response.noContent().build();
    }
}
