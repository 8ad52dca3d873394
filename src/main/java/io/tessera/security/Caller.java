package io.tessera.security;

/**
 * Who made a request: the operator (the admin key from configuration) or one tenant (a tenant's API key).
 *
 * @param tenantId   null for the admin
 * @param tenantName null for the admin
 */
public record Caller(Long tenantId, String tenantName) {
    public static final Caller ADMIN = new Caller(null, null);

    public static Caller tenant(long id, String name) {
        return new Caller(id, name);
    }

    public boolean isAdmin() {
        return tenantId == null;
    }

    /** For the audit log. */
    public String actor() {
        return isAdmin() ? "admin" : "tenant:" + tenantName;
    }
}
