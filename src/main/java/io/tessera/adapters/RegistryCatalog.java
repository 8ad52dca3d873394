package io.tessera.adapters;

import io.tessera.persistence.Names;
import io.tessera.runtime.AdapterRef;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Optional;

/**
 * The catalog backed by the registry: a tenant sees only its own adapters (another tenant's name resolves to
 * nothing, exactly like a name that does not exist), unpacked on first use.
 */
@ApplicationScoped
public class RegistryCatalog implements AdapterCatalog {
    /** Versions are numbered from 1 and stored as int: at most 10 digits are read, then bounded in long. */
    private static final int MAX_VERSION_DIGITS = 10;

    @Inject
    AdapterResolver resolver;
    @Inject
    AdapterFiles files;

    @Override
    public Optional<AdapterRef> resolve(Long tenantId, String model) {
        return find(tenantId, model).map(r -> new AdapterRef(r.name(), r.version(), r.engineKey(),
                files.dir(r.sha256()), r.virtualTokens()));
    }

    @Override
    public Optional<Listed> describe(Long tenantId, String model) {
        return find(tenantId, model).map(r -> new Listed(model, r.created()));
    }

    @Override
    public List<Listed> list(Long tenantId) {
        return tenantId == null ? List.of() : resolver.list(tenantId).stream().map(r -> new Listed(r.name(), r.created())).toList();
    }

    /** {@code name} or {@code name@N}; a name no adapter can have (NUL, control characters) is not found, without a query. */
    private Optional<AdapterResolver.Resolved> find(Long tenantId, String model) {
        if (tenantId == null || model == null) {
            return Optional.empty();
        }
        int at = model.indexOf('@');   // adapter names have no '@'
        String name = at < 0 ? model : model.substring(0, at);
        if (!Names.isName(name)) {
            return Optional.empty();
        }
        if (at < 0) {
            return resolver.resolve(tenantId, name);
        }
        String digits = model.substring(at + 1);
        if (digits.isEmpty() || digits.length() > MAX_VERSION_DIGITS || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return Optional.empty();
        }
        long version = Long.parseLong(digits);
        return version < 1 || version > Integer.MAX_VALUE ? Optional.empty() : resolver.resolve(tenantId, name, (int) version);
    }
}
