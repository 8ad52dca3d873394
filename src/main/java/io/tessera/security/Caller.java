package io.tessera.security;

/**
 * Who made a request: the operator (the admin key from configuration) or one tenant (a tenant's API key).
 *
 * @param tenantId          null for the admin
 * @param tenantName        null for the admin
 * @param requestsPerMinute the tenant's own limit, null for the configured default
 * @param tokensPerMinute   the tenant's own limit, null for the configured default
 */
public record Caller(Long tenantId, String tenantName, Integer requestsPerMinute, Integer tokensPerMinute) {
    public static final Caller ADMIN = new Caller(null, null, null, null);

    public static Caller of(Tenant t) {
        return new Caller(t.id, t.name, t.requestsPerMinute, t.tokensPerMinute);
    }

    public boolean isAdmin() {
        return tenantId == null;
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
}
