package io.tessera.api;

import io.quarkus.security.identity.SecurityIdentity;
import io.tessera.adapters.AdapterCatalog;
import io.tessera.api.ModelList.ModelCard;
import io.tessera.security.Caller;
import io.tessera.service.ServingState;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

@Path("/v1/models")
@RolesAllowed({Caller.ADMIN_ROLE, Caller.TENANT_ROLE})
@Tag(name = "Models")
public class ModelsResource {
    private final long started = Instant.now().getEpochSecond();

    @Inject
    ServingState state;

    @Inject
    AdapterCatalog catalog;

    @Inject
    SecurityIdentity identity;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Lists the models the caller may use", description = "The base model, then its adapters, "
            + "each with the base model as parent.")
    @APIResponse(responseCode = "200", description = "The models")
    @APIResponse(responseCode = "503", ref = "Unavailable")
    public ModelList models() {
        String base = state.host().name();
        List<ModelCard> cards = new ArrayList<>();
        cards.add(new ModelCard(base, "model", started, "tessera", base, null));
        for (String a : catalog.list(Caller.of(identity).tenantId())) {
            cards.add(new ModelCard(a, "model", started, "tessera", base, base));
        }
        return new ModelList("list", cards);
    }
}
