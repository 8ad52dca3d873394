package io.tessera.adapters;

import java.util.List;
import java.util.Optional;

/** Which adapters a tenant may use, by model name. The registry replaces the directory-backed one. */
public interface AdapterCatalog {

    /** The adapter called {@code model} that {@code tenant} may use; empty when there is none. */
    Optional<AdapterRef> resolve(String tenant, String model);

    /** Every adapter {@code tenant} may use, by name. */
    List<AdapterRef> list(String tenant);
}
