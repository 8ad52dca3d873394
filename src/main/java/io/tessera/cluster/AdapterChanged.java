package io.tessera.cluster;

/**
 * An adapter of a tenant was uploaded, activated, pinned, unpinned or deleted: resolutions of it are stale. The
 * tenant by id: a name may be taken again by a new tenant after a deletion, an id never.
 */
public record AdapterChanged(long tenantId, String name) {
}
