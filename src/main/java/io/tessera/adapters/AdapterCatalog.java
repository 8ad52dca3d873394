package io.tessera.adapters;

import io.tessera.runtime.AdapterRef;
import java.util.List;
import java.util.Optional;

/** Which adapters a tenant (by id, never by name) may use, by model name. */
public interface AdapterCatalog {

    /** The adapter called {@code model} that the tenant may use; empty when there is none (or for the admin, null). */
    Optional<AdapterRef> resolve(Long tenantId, String model);

    /** The names of the adapters the tenant may use (none for the admin, null). */
    List<String> list(Long tenantId);
}
