package io.tessera.api.admin;

import static io.tessera.persistence.RegistryException.Problem.INVALID;

import io.quarkus.security.identity.SecurityIdentity;
import io.tessera.adapters.AdapterRegistry;
import io.tessera.adapters.AdapterResidency;
import io.tessera.adapters.AdapterViews.AdapterDetail;
import io.tessera.adapters.AdapterViews.AdapterListing;
import io.tessera.adapters.AdapterViews.AdapterView;
import io.tessera.adapters.AdapterViews.Uploaded;
import io.tessera.adapters.AdapterViews.VersionView;
import io.tessera.api.ErrorResponse;
import io.tessera.engine.adapter.AdapterTable;
import io.tessera.persistence.RegistryException;
import io.tessera.runtime.ModelHost;
import io.tessera.security.Caller;
import io.tessera.service.ServingState;
import io.tessera.store.InsufficientStorageException;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

/**
 * Adapters of one tenant: the tenant of the key, or, for the admin key, the one named by {@code tenant} (query
 * parameter, or form field on upload).
 */
@Tag(name = "Admin")
@Path("/v1/admin/adapters")
@RolesAllowed({Caller.ADMIN_ROLE, Caller.TENANT_ROLE})
public class AdaptersResource {
    public record ActivateBody(Integer version) {
    }

    @Inject
    AdapterRegistry registry;
    @Inject
    SecurityIdentity identity;
    @Inject
    AdapterResidency residency;
    @Inject
    ServingState state;

    @POST
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    @APIResponse(responseCode = "201", description = "stored: the adapter (its active version's facts) and, in uploaded, "
            + "the version just stored (its number and size; with activate=false not the active one)",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Uploaded.class)))
    @APIResponse(responseCode = "400", description = "not a .zip or .tar.gz, an unsafe entry, or a name not allowed",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ErrorResponse.class)))
    @APIResponse(responseCode = "413", description = "over a size limit (upload, unpacked bytes, entries, "
            + "adapter_config.json, safetensors header); the message names the limit",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ErrorResponse.class)))
    @APIResponse(responseCode = "422", description = "an adapter this base model cannot serve exactly (the message says "
            + "why and names the field or file): shapes, NaN/Inf, non-positive or non-finite scaling, invalid patterns, "
            + "special archive entries",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ErrorResponse.class)))
    @APIResponse(responseCode = "507", description = "the store's disk is full (code insufficient_storage); nothing was kept",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ErrorResponse.class)))
    @Operation(operationId = "uploadAdapter")
    public Response upload(@RestForm String name, @RestForm("file") FileUpload file, @RestForm String activate,
                           @RestForm String tenant, @QueryParam("tenant") String tenantQuery)
            throws InsufficientStorageException {
        if (file == null || file.uploadedFile() == null) {
            throw new RegistryException(INVALID, "form field 'file' (a .zip or .tar.gz) is missing");
        }
        if (activate != null && !activate.equals("true") && !activate.equals("false")) {
            throw new RegistryException(INVALID, "activate must be true or false");
        }
        Uploaded v;
        try {
            v = registry.upload(Caller.of(identity), tenant != null ? tenant : tenantQuery, name, file.uploadedFile(),
                    !"false".equals(activate));
        } catch (InsufficientStorageException e) {
            throw e;
        } catch (IOException e) {
            // the service's own I/O failure: a 500, unlike an IOException from reading the request (ErrorMapper)
            throw new UncheckedIOException(e);
        }
        return Response.status(201).entity(v).build();
    }

    @GET
    @Operation(operationId = "listAdapters")
    public Map<String, List<AdapterListing>> list(@QueryParam("tenant") String tenant) {
        Optional<AdapterTable> engine = state.loaded().map(ModelHost::adapters);
        return Map.of("data", registry.list(Caller.of(identity), tenant).stream().map(d -> new AdapterListing(d.adapter(),
                d.versions(), d.versions().stream().filter(VersionView::active).findFirst()
                        .map(v -> residency.tier(engine, v.sha256())).orElse(null))).toList());
    }

    @GET
    @Path("/{name}")
    @Operation(operationId = "getAdapter")
    public AdapterDetail get(@PathParam("name") String name, @QueryParam("tenant") String tenant) {
        return registry.get(Caller.of(identity), tenant, name);
    }

    @POST
    @Path("/{name}/activate")
    @Operation(operationId = "activateAdapterVersion")
    public AdapterView activate(@PathParam("name") String name, @QueryParam("tenant") String tenant, ActivateBody body) {
        if (body == null || body.version() == null) {
            throw new RegistryException(INVALID, "body must be {\"version\": n}");
        }
        return registry.activate(Caller.of(identity), tenant, name, body.version());
    }

    @POST
    @Path("/{name}/pin")
    @RolesAllowed(Caller.ADMIN_ROLE)   // pinning holds memory every tenant shares
    @Operation(operationId = "pinAdapter")
    public AdapterView pin(@PathParam("name") String name, @QueryParam("tenant") String tenant) {
        return registry.pin(Caller.of(identity), tenant, name, true);
    }

    @POST
    @Path("/{name}/unpin")
    @RolesAllowed(Caller.ADMIN_ROLE)
    @Operation(operationId = "unpinAdapter")
    public AdapterView unpin(@PathParam("name") String name, @QueryParam("tenant") String tenant) {
        return registry.pin(Caller.of(identity), tenant, name, false);
    }

    @DELETE
    @APIResponse(responseCode = "204", description = "deleted, every version")
    @Path("/{name}")
    @Operation(operationId = "deleteAdapter")
    public Response delete(@PathParam("name") String name, @QueryParam("tenant") String tenant) {
        registry.delete(Caller.of(identity), tenant, name);
        return Response.noContent().build();
    }
}
