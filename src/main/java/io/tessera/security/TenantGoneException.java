package io.tessera.security;

import io.tessera.persistence.RegistryException;

/**
 * The tenant a key was resolved to no longer exists (deleted, perhaps created again under the same name with a new
 * id): the key is refused (401), whatever a cache still says of it.
 */
public class TenantGoneException extends RegistryException {
    public TenantGoneException() {
        super(Problem.UNAUTHENTICATED, "invalid API key: its tenant no longer exists");
    }
}
