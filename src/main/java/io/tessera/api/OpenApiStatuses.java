package io.tessera.api;

import io.quarkus.smallrye.openapi.OpenApiFilter;
import io.tessera.security.Caller;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.parameters.Parameter;
import org.eclipse.microprofile.openapi.models.responses.APIResponses;

/**
 * The refusals an operation answers because of its key, said once for all from what the document knows of each
 * operation instead of on every method (where any response would also hide the default 200): every operation with
 * roles answers 401; 403 where its roles leave the tenant's out, or where it takes the {@code tenant} parameter (a
 * tenant key naming another tenant); that parameter and a path parameter bring 400 (the admin key names no tenant, or
 * a name not allowed) and 404 (no such tenant, adapter or key). A request body brings 413 (over the server's limits) and
 * 415 (another Content-Type); the admin API reads Postgres, so 503 while it is unreachable. A method's own annotation
 * for a status wins.
 * It runs on the finished document, after Quarkus added the roles and its own bodiless 401 and 403.
 */
@OpenApiFilter(OpenApiFilter.RunStage.RUN)
public class OpenApiStatuses implements OASFilter {
    private static final String TENANT_PARAMETER = "tenant";
    private static final String ADMIN_PATHS = "/v1/admin/";

    @Override
    public void filterOpenAPI(OpenAPI openAPI) {
        openAPI.getPaths().getPathItems().forEach((name, path) -> {
            for (Operation op : path.getOperations().values()) {
                List<Parameter> parameters = Stream.of(path.getParameters(), op.getParameters()).filter(Objects::nonNull)
                        .flatMap(List::stream).toList();
                statuses(name, op, parameters);
            }
        });
    }

    private static void statuses(String path, Operation op, List<Parameter> parameters) {
        List<String> roles = op.getSecurity() == null ? List.of() : op.getSecurity().stream()
                .flatMap(s -> s.getSchemes().values().stream()).filter(Objects::nonNull).flatMap(List::stream).toList();
        if (roles.isEmpty()) {
            return;
        }
        boolean namesTenant = parameters.stream().anyMatch(p -> p.getIn() == Parameter.In.QUERY
                && TENANT_PARAMETER.equals(p.getName()));
        boolean namesThing = parameters.stream().anyMatch(p -> p.getIn() == Parameter.In.PATH);
        APIResponses responses = op.getResponses();
        responses.addAPIResponse("401", ref("Unauthenticated"));
        if (!roles.contains(Caller.TENANT_ROLE) || namesTenant) {
            responses.addAPIResponse("403", ref("Forbidden"));
        } else {
            responses.removeAPIResponse("403");
        }
        if ((namesTenant || namesThing) && path.startsWith(ADMIN_PATHS)) {
            addIfAbsent(responses, "400", "BadParameter");
            addIfAbsent(responses, "404", "NotFound");
        }
        if (op.getRequestBody() != null) {
            addIfAbsent(responses, "413", "RequestTooLarge");
            addIfAbsent(responses, "415", "UnsupportedMediaType");
        }
        if (path.startsWith(ADMIN_PATHS)) {
            addIfAbsent(responses, "503", "RegistryUnavailable");
        }
    }

    private static void addIfAbsent(APIResponses responses, String status, String name) {
        if (!responses.hasAPIResponse(status)) {
            responses.addAPIResponse(status, ref(name));
        }
    }

    private static org.eclipse.microprofile.openapi.models.responses.APIResponse ref(String name) {
        return OASFactory.createAPIResponse().ref(name);
    }
}
