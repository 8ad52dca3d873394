package io.tessera.adapters;

import io.tessera.runtime.AdapterRef;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Which adapters a tenant (by id, never by name) may use, by model name: an adapter's name for its active version, or
 * {@code name@N} for its version N, active or not.
 */
public interface AdapterCatalog {

    /** An adapter as {@code /v1/models} shows it: the model name and when its version was uploaded. */
    record Listed(String model, Instant created) {
    }

    /** The adapter called {@code model} that the tenant may use; empty when there is none (or for the admin, null). */
    Optional<AdapterRef> resolve(Long tenantId, String model);

    /** The same adapter as {@link #resolve}, described. */
    Optional<Listed> describe(Long tenantId, String model);

    /** The adapters with an active version the tenant may use (none for the admin, null), by name. */
    List<Listed> list(Long tenantId);
}
