package io.tessera.security;

import io.quarkus.security.identity.SecurityIdentity;
import java.security.Principal;

/**
 * Who made a request: the operator (the admin key from configuration) or one tenant (a tenant's API key). It is the
 * principal of the request's {@link SecurityIdentity}, whose one role is {@link #ADMIN_ROLE} or {@link #TENANT_ROLE}.
 *
 * @param tenantId          null for the admin
 * @param tenantName        null for the admin
 * @param requestsPerMinute the tenant's own limit, null for the configured default
 * @param tokensPerMinute   the tenant's own limit, null for the configured default
 */
public record Caller(Long tenantId, String tenantName, Integer requestsPerMinute, Integer tokensPerMinute)
        implements Principal {
    /** The role of the admin key. */
    public static final String ADMIN_ROLE = "admin";
    /** The role of a tenant's key. */
    public static final String TENANT_ROLE = "tenant";

    public static final Caller ADMIN = new Caller(null, null, null, null);

    public static Caller of(Tenant t) {
        return new Caller(t.id, t.name, t.requestsPerMinute, t.tokensPerMinute);
    }

    /** The caller of an authenticated request. */
    public static Caller of(SecurityIdentity identity) {
        return (Caller) identity.getPrincipal();
    }

    public boolean isAdmin() {
        return tenantId == null;
    }

    String role() {
        return isAdmin() ? ADMIN_ROLE : TENANT_ROLE;
    }

    /**
     * Whose request it is to the scheduler: the unit of fair turns and of prefix-cache isolation. By id, so that a
     * tenant created again under a deleted one's name shares nothing with it.
     */
    public String scope() {
        return isAdmin() ? "admin" : "tenant:" + tenantId;
    }

    /** For the audit log. */
    public String actor() {
        return isAdmin() ? "admin" : "tenant:" + tenantName;
    }

    @Override
    public String getName() {
        return actor();
    }
}
