package io.tessera.adapters;

import static io.tessera.persistence.RegistryException.Problem.FORBIDDEN;
import static io.tessera.persistence.RegistryException.Problem.INVALID;
import static io.tessera.persistence.RegistryException.Problem.NOT_FOUND;
import static io.tessera.persistence.RegistryException.Problem.REJECTED;
import static io.tessera.persistence.RegistryException.Problem.TOO_LARGE;

import io.quarkus.logging.Log;
import io.tessera.adapters.AdapterViews.AdapterDetail;
import io.tessera.adapters.AdapterViews.AdapterView;
import io.tessera.adapters.AdapterViews.Uploaded;
import io.tessera.cluster.AdapterChanged;
import io.tessera.cluster.ClusterEvents;
import io.tessera.config.RegistryConfig;
import io.tessera.engine.adapter.AdapterLoader;
import io.tessera.engine.adapter.Description;
import io.tessera.persistence.AuditEntry;
import io.tessera.persistence.Db;
import io.tessera.persistence.Names;
import io.tessera.persistence.RegistryException;
import io.tessera.security.Caller;
import io.tessera.security.Tenant;
import io.tessera.security.TenantGoneException;
import io.tessera.store.BlobStore;
import io.tessera.store.InsufficientStorageException;
import io.tessera.util.Io;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.LockModeType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The adapter registry: uploads are checked completely, then the blob is written, then the rows in one
 * transaction, so a refused or failed upload leaves no row. Every change is audited and announced to all replicas.
 */
@ApplicationScoped
public class AdapterRegistry {

    @Inject
    RegistryConfig config;
    @Inject
    BlobStore blobs;
    @Inject
    BaseModel base;
    @Inject
    ClusterEvents events;
    @Inject
    HostAdapterCache host;

    public Uploaded upload(Caller caller, String tenantName, String name, Path archive, boolean activate) throws IOException {
        Names.check("adapter name", name);
        if (name.equals(base.name())) {
            throw new RegistryException(INVALID, "adapter name '" + name + "' is the base model's name");
        }
        long tenantId = Db.tx(() -> tenant(caller, tenantName).id);
        long size = Files.size(archive);
        if (size > config.maxUploadBytes()) {
            throw new RegistryException(TOO_LARGE, "file is " + size + " bytes, over the limit of " + config.maxUploadBytes());
        }
        Path work = Files.createDirectories(Path.of(config.workDir())).resolve("upload-" + System.nanoTime());
        try {
            Path root = Files.createDirectories(work.resolve("unpacked"));
            new ArchiveExtractor(limits(config)).extract(archive, root);
            AdapterInspector.Inspected in = new AdapterInspector(base.model(), config.maxConfigBytes())
                    .inspect(root, AdapterInspector.adapterDir(root));
            String sha = Io.sha256(archive);
            boolean blobExisted = blobs.exists(sha);
            blobs.put(sha, archive);
            Uploaded uploaded;
            try {
                uploaded = Db.tx(() -> addVersion(caller, tenantId, name, in, sha, size, activate));
            } catch (RuntimeException e) {
                if (!blobExisted && !Db.tx(() -> AdapterVersion.referenced(sha))) {
                    blobs.delete(sha);
                }
                throw e;
            }
            if (activate) {
                host.put(sha, in.adapter());   // prefetch: every replica is about to ask for it
            }
            announce(new Changed(tenantId, uploaded.adapter()));
            return uploaded;
        } catch (InsufficientStorageException e) {
            Log.warnf("upload of %s refused: %s", name, e.getMessage());   // the operator has to free space
            throw e;
        } finally {
            deleteTree(work);
        }
    }

    private Uploaded addVersion(Caller caller, long tenantId, String name, AdapterInspector.Inspected in, String sha,
                                   long size, boolean activate) {
        Tenant t = Tenant.findById(tenantId);
        RegisteredAdapter a = RegisteredAdapter.byName(tenantId, name).orElse(null);
        if (a == null) {
            a = new RegisteredAdapter();
            a.tenant = t;
            a.name = name;
            a.kind = in.description().kind();
            a.baseModel = base.name();
            a.updatedAt = Instant.now();
            a.persistAndFlush();
        } else {
            RegisteredAdapter.getEntityManager().lock(a, LockModeType.PESSIMISTIC_WRITE);
            if (a.kind != in.description().kind()) {
                throw new RegistryException(REJECTED, "adapter " + name + " is " + a.kind + "; the upload is " + in.description().kind()
                        + " (upload it under another name)");
            }
        }
        int next = AdapterVersion.of(a).stream().mapToInt(v -> v.version).max().orElse(0) + 1;
        AdapterVersion v = new AdapterVersion();
        v.adapter = a;
        v.version = next;
        v.blobSha256 = sha;
        v.sizeBytes = size;
        Description d = in.description();
        v.rank = d.rank();
        v.virtualTokens = d.virtualTokens();
        v.maxLength = d.maxLength();
        v.expertGroups = d.expertGroups() == null ? null : d.expertGroups().toArray(Integer[]::new);
        v.targetModules = d.targetModules();
        v.persist();
        if (activate) {
            a.activeVersion = next;
        }
        a.updatedAt = Instant.now();
        AuditEntry.record(caller.actor(), tenantId, "upload", name + "@" + next,
                "sha256=" + sha + " bytes=" + size + " kind=" + in.description().kind() + (activate ? " activated" : ""));
        return new Uploaded(AdapterViews.view(a, activate ? v : activeOf(a)), AdapterViews.view(v, a.activeVersion));
    }

    /** The tenant's adapters by name, each with its versions; two queries however many there are. */
    public List<AdapterDetail> list(Caller caller, String tenantName) {
        return Db.tx(() -> {
            Tenant t = tenant(caller, tenantName);
            Map<Long, List<AdapterVersion>> versions = AdapterVersion.<AdapterVersion>list(
                    "adapter.tenant = ?1 order by version", t).stream().collect(Collectors.groupingBy(v -> v.adapter.id));
            return RegisteredAdapter.<RegisteredAdapter>list("tenant = ?1 order by name", t).stream().map(a -> {
                List<AdapterVersion> vs = versions.getOrDefault(a.id, List.of());
                AdapterVersion active = vs.stream().filter(v -> a.activeVersion != null && v.version == a.activeVersion)
                        .findFirst().orElse(null);
                return new AdapterDetail(AdapterViews.view(a, active),
                        vs.stream().map(v -> AdapterViews.view(v, a.activeVersion)).toList());
            }).toList();
        });
    }

    public AdapterDetail get(Caller caller, String tenantName, String name) {
        return Db.tx(() -> {
            RegisteredAdapter a = adapter(caller, tenantName, name);
            return new AdapterDetail(AdapterViews.view(a, activeOf(a)),
                    AdapterVersion.of(a).stream().map(v -> AdapterViews.view(v, a.activeVersion)).toList());
        });
    }

    public AdapterView activate(Caller caller, String tenantName, String name, int version) {
        Changed changed = Db.tx(() -> {
            RegisteredAdapter a = adapter(caller, tenantName, name);
            AdapterVersion v = AdapterVersion.of(a, version).orElseThrow(() -> new RegistryException(NOT_FOUND,
                    "adapter " + name + " has no version " + version));
            a.activeVersion = version;
            a.updatedAt = Instant.now();
            AuditEntry.record(caller.actor(), a.tenant.id, "activate", name + "@" + version, null);
            return new Changed(a.tenant.id, AdapterViews.view(a, v));
        });
        return announce(changed);
    }

    /** Pinning holds memory every tenant shares, so only the operator may do it (the resource's role says so). */
    public AdapterView pin(Caller caller, String tenantName, String name, boolean pinned) {
        Changed changed = Db.tx(() -> {
            RegisteredAdapter a = adapter(caller, tenantName, name);
            a.pinned = pinned;
            a.updatedAt = Instant.now();
            AuditEntry.record(caller.actor(), a.tenant.id, pinned ? "pin" : "unpin", name, null);
            return new Changed(a.tenant.id, AdapterViews.view(a, activeOf(a)));
        });
        return announce(changed);
    }

    /** Removes the adapter and all its versions; the blobs go with the next sweep once nothing references them. */
    public void delete(Caller caller, String tenantName, String name) {
        long tenantId = Db.tx(() -> {
            RegisteredAdapter a = adapter(caller, tenantName, name);
            AuditEntry.record(caller.actor(), a.tenant.id, "delete", name,
                    "versions=" + AdapterVersion.count("adapter", a));
            AdapterVersion.delete("adapter", a);
            a.delete();
            return a.tenant.id;
        });
        events.publish(new AdapterChanged(tenantId, name));
    }

    /** A change to announce once committed; the tenant by id (see {@link AdapterChanged}). */
    private record Changed(long tenantId, AdapterView view) {
    }

    private AdapterView announce(Changed changed) {
        events.publish(new AdapterChanged(changed.tenantId(), changed.view().name()));
        return changed.view();
    }

    private static AdapterVersion activeOf(RegisteredAdapter a) {
        return a.activeVersion == null ? null : AdapterVersion.of(a, a.activeVersion).orElse(null);
    }

    /**
     * The tenant a call acts on: a tenant key acts on its own tenant (naming another is refused), the admin key
     * names one. A missing tenant and one the caller may not see answer alike.
     */
    public static Tenant tenant(Caller caller, String tenantName) {
        if (!caller.isAdmin()) {
            if (tenantName != null && !tenantName.equals(caller.tenantName())) {
                throw new RegistryException(FORBIDDEN, "a tenant key acts only on its own tenant");
            }
            // by id: a key cached for a deleted tenant never acts on one created again under its name
            return Tenant.<Tenant>findByIdOptional(caller.tenantId()).orElseThrow(TenantGoneException::new);
        }
        if (tenantName == null || tenantName.isBlank()) {
            throw new RegistryException(INVALID, "the admin key must name the tenant (parameter 'tenant')");
        }
        Names.check("tenant name", tenantName);
        return Tenant.byName(tenantName).orElseThrow(() -> new RegistryException(NOT_FOUND,
                "tenant '" + tenantName + "' not found"));
    }

    private static RegisteredAdapter adapter(Caller caller, String tenantName, String name) {
        Names.check("adapter name", name);
        Tenant t = tenant(caller, tenantName);
        return RegisteredAdapter.byName(t.id, name).orElseThrow(() -> new RegistryException(NOT_FOUND,
                "adapter '" + name + "' not found"));
    }

    static ArchiveExtractor.Limits limits(RegistryConfig config) {
        return new ArchiveExtractor.Limits(config.maxArchiveEntries(), config.maxUnpackedBytes(), config.maxCompressionRatio(),
                config.maxConfigBytes());
    }

    /** Removes a scratch tree; a failure is logged, not thrown (the leftovers sweep retries it later). */
    static void deleteTree(Path dir) {
        try {
            Io.deleteTree(dir);
        } catch (IOException e) {
            Log.warnf("could not remove %s: %s", dir, e.getMessage());
        }
    }
}
