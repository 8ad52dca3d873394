package io.tessera.adapters;

import io.tessera.config.RegistryConfig;
import io.tessera.store.BlobStore;
import io.tessera.util.Io;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Adapter directories on local disk, unpacked from their blobs on first use: work-dir/adapters/SHA256/. Named by
 * content, so a directory never changes once it is there and replicas need no coordination to share a name.
 */
@ApplicationScoped
public class AdapterFiles {
    @Inject
    RegistryConfig config;
    @Inject
    BlobStore blobs;

    /** The unpacked adapter directory of blob {@code sha256}, fetched and unpacked now if needed. */
    public Path dir(String sha256) {
        Path root = Path.of(config.workDir(), "adapters", sha256).toAbsolutePath();
        try {
            if (!Files.isDirectory(root)) {
                unpack(sha256, root);
            }
            return AdapterInspector.adapterDir(root);
        } catch (IOException e) {
            throw new AdapterFetchException(sha256, e);
        }
    }

    private void unpack(String sha256, Path root) throws IOException {
        Path parent = Files.createDirectories(root.getParent());
        Path tmp = Files.createTempDirectory(parent, ".unpack-");
        try {
            Path archive = tmp.resolve("blob");
            blobs.get(sha256, archive);
            if (!Io.sha256(archive).equals(sha256)) {
                throw new IOException("the store returned bytes whose SHA-256 differs (corrupt blob)");
            }
            Path out = Files.createDirectories(tmp.resolve("adapter"));
            new ArchiveExtractor(AdapterRegistry.limits(config)).extract(archive, out);
            try {
                Files.move(out, root, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                // another thread unpacked the same blob first: same bytes, keep theirs
                if (!Files.isDirectory(root)) {
                    throw e;
                }
            }
        } finally {
            AdapterRegistry.deleteTree(tmp);
        }
    }

    /** Frees the disk of an adapter version no longer in use here (it is unpacked again if asked for). */
    public void evict(String sha256) {
        AdapterRegistry.deleteTree(Path.of(config.workDir(), "adapters", sha256));
    }
}
