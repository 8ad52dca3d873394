package io.tessera.adapters;

import java.util.List;
import java.util.Optional;

/** Which adapters a tenant may use, by model name. */
public interface AdapterCatalog {

    /** The adapter called {@code model} that {@code tenant} may use; empty when there is none. */
    Optional<AdapterRef> resolve(String tenant, String model);

    /** The names of the adapters {@code tenant} may use. */
    List<String> list(String tenant);
}
