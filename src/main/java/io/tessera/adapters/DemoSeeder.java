package io.tessera.adapters;

import io.quarkus.logging.Log;
import io.tessera.config.RegistryConfig;
import io.tessera.persistence.Db;
import io.tessera.security.Caller;
import io.tessera.security.Tenant;
import io.tessera.security.Tenants;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;

/**
 * First start only (no {@code demo} tenant yet): creates the {@code demo} tenant and uploads the seed adapters for the resident
 * base model (seed-dir/MODEL/NAME) through the normal upload path, so they are checked and stored like any other.
 */
@ApplicationScoped
public class DemoSeeder {
    public static final String TENANT = "demo";

    @Inject
    RegistryConfig config;
    @Inject
    Tenants tenants;
    @Inject
    AdapterRegistry registry;
    @Inject
    BaseModel base;

    /**
     * Called once the base model is loaded (uploads are checked against it), before the service reports ready.
     * The demo tenant's API key when this start created it (for the ready banner, the one place it is shown).
     */
    public Optional<String> seedOnce() {
        return config.seedDir().map(Path::of).flatMap(this::seed);
    }

    private Optional<String> seed(Path root) {
        try {
            if (Db.tx(() -> Tenant.byName(TENANT).isPresent())) {
                return Optional.empty();
            }
            Tenants.IssuedKey key = tenants.create(Caller.ADMIN, TENANT, null, null);
            Log.infof("first start: created tenant '%s'", TENANT);
            seedAdapters(root.resolve(base.name()));
            return Optional.of(key.apiKey());
        } catch (RuntimeException ex) {
            // a replica starting beside us may have created the tenant first (CONFLICT): it showed the key
            Log.warnf("creating the demo tenant stopped: %s", ex.getMessage());
            return Optional.empty();
        }
    }

    private void seedAdapters(Path dir) {
        try {
            if (!Files.isDirectory(dir)) {
                return;
            }
            try (Stream<Path> s = Files.list(dir)) {
                for (Path adapter : s.filter(Files::isDirectory).sorted().toList()) {
                    Path zip = Files.createTempFile("seed-", ".zip");
                    try {
                        zip(adapter, zip);
                        registry.upload(Caller.ADMIN, TENANT, adapter.getFileName().toString(), zip, true);
                        Log.infof("seeded adapter %s for tenant %s", adapter.getFileName(), TENANT);
                    } finally {
                        Files.deleteIfExists(zip);
                    }
                }
            }
        } catch (IOException | RuntimeException ex) {
            // never fatal: a replica starting beside us may have seeded first (CONFLICT), or a seed adapter is bad
            Log.warnf("seeding the demo tenant from %s stopped: %s", dir, ex.getMessage());
        }
    }

    private static void zip(Path dir, Path target) throws IOException {
        try (OutputStream out = Files.newOutputStream(target); ZipArchiveOutputStream zip = new ZipArchiveOutputStream(out);
             Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                zip.putArchiveEntry(new ZipArchiveEntry(f.getFileName().toString()));
                Files.copy(f, zip);
                zip.closeArchiveEntry();
            }
        }
    }
}
