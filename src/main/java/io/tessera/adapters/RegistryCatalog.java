package io.tessera.adapters;

import io.tessera.persistence.Names;
import io.tessera.runtime.AdapterRef;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Optional;

/**
 * The catalog backed by the registry: a tenant sees only its own adapters (another tenant's name resolves to
 * nothing, exactly like a name that does not exist) at their active version, unpacked on first use.
 */
@ApplicationScoped
public class RegistryCatalog implements AdapterCatalog {
    @Inject
    AdapterResolver resolver;
    @Inject
    AdapterFiles files;

    @Override
    public Optional<AdapterRef> resolve(Long tenantId, String model) {
        // a name no adapter can have (NUL, control characters) is simply not found, without a query
        if (tenantId == null || !Names.isName(model)) {
            return Optional.empty();
        }
        return resolver.resolve(tenantId, model).map(r -> new AdapterRef(r.name(), r.version(), r.engineKey(),
                files.dir(r.sha256()), r.virtualTokens()));
    }

    @Override
    public List<String> list(Long tenantId) {
        return tenantId == null ? List.of() : resolver.list(tenantId).stream().map(AdapterResolver.Resolved::name).toList();
    }
}
