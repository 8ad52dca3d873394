package io.tessera.api;

import io.quarkus.security.identity.SecurityIdentity;
import io.tessera.adapters.AdapterCatalog;
import io.tessera.api.ModelList.ModelCard;
import io.tessera.runtime.ModelHost;
import io.tessera.security.Caller;
import io.tessera.service.ServingState;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

@Path("/v1/models")
@RolesAllowed({Caller.ADMIN_ROLE, Caller.TENANT_ROLE})
@Tag(name = "Models", description = "The base model and the caller's adapters")
@Produces(MediaType.APPLICATION_JSON)
public class ModelsResource {
    private static final String OWNER = "tessera";

    @Inject
    ServingState state;

    @Inject
    AdapterCatalog catalog;

    @Inject
    SecurityIdentity identity;

    @GET
    @Operation(operationId = "listModels", summary = "Lists the models the caller may use", description = "The base model, "
            + "then its adapters (at their active versions), each with the base model as parent.")
    @APIResponse(responseCode = "200", description = "The models")
    @APIResponse(responseCode = "503", ref = "Unavailable")
    public ModelList models() {
        ModelHost host = state.host();
        List<ModelCard> cards = new ArrayList<>();
        cards.add(base(host));
        for (AdapterCatalog.Listed a : catalog.list(Caller.of(identity).tenantId())) {
            cards.add(adapter(host, a));
        }
        return new ModelList("list", cards);
    }

    @GET
    @Path("/{model}")
    @Operation(operationId = "retrieveModel", summary = "Describes one model the caller may use", description = "The base "
            + "model, one of the caller's adapters, or name@N for version N of one (active or not).")
    @APIResponse(responseCode = "200", description = "The model")
    @APIResponse(responseCode = "404", ref = "ModelNotFound")
    @APIResponse(responseCode = "503", ref = "Unavailable")
    public ModelCard model(@PathParam("model") String model) {
        ModelHost host = state.host();
        if (model.equals(host.name())) {
            return base(host);
        }
        return catalog.describe(Caller.of(identity).tenantId(), model).map(a -> adapter(host, a))
                .orElseThrow(() -> new ModelNotFoundException(model));
    }

    private static ModelCard base(ModelHost host) {
        return new ModelCard(host.name(), "model", baseCreated(host), OWNER, host.name(), null, host.contextLimit());
    }

    private static ModelCard adapter(ModelHost host, AdapterCatalog.Listed a) {
        return new ModelCard(a.model(), "model", a.created().getEpochSecond(), OWNER, host.name(), host.name(), host.contextLimit());
    }

    /** The same on every replica serving the same files, unlike a start time. */
    private static long baseCreated(ModelHost host) {
        try {
            return Files.getLastModifiedTime(host.engine().files().dir().resolve("config.json")).toInstant().getEpochSecond();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
