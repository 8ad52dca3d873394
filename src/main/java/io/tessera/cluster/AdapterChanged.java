package io.tessera.cluster;

/** An adapter of a tenant (by name: tenant names are unique and never change) was uploaded, activated, pinned, unpinned or deleted: resolutions of it are stale. */
public record AdapterChanged(String tenant, String name) {
}
