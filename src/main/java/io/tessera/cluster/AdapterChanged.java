package io.tessera.cluster;

/** An adapter of a tenant was uploaded, activated, pinned, unpinned or deleted: resolutions of it are stale. */
public record AdapterChanged(long tenantId, String name) {
}
