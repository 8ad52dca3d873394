package io.tessera.adapters;

import io.quarkus.logging.Log;
import io.quarkus.scheduler.Scheduled;
import io.tessera.config.RegistryConfig;
import io.tessera.persistence.Db;
import io.tessera.store.BlobStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.time.Instant;

/**
 * Deletes blobs no adapter version references (and this replica's unpacked and in-memory copies of them): those of deleted adapters, and those of uploads whose rows never
 * committed. Blobs younger than the grace period are left alone, since their upload may still be committing.
 */
@ApplicationScoped
public class BlobSweeper {
    @Inject
    RegistryConfig config;
    @Inject
    BlobStore blobs;
    @Inject
    AdapterFiles files;
    @Inject
    HostAdapterCache host;

    // the first sweep one interval after the start, as every later one; a sweep still running is not started twice
    @Scheduled(identity = "tessera-blob-sweeper", every = "${tessera.registry.sweep-interval:10m}",
            delayed = "${tessera.registry.sweep-interval:10m}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void sweepQuietly() {
        try {
            sweep(Instant.now().minus(config.sweepGrace()));
        } catch (IOException | RuntimeException ex) {
            Log.warnf("blob sweep skipped: %s", ex.getMessage());
        }
    }

    /** Deletes unreferenced blobs last written before {@code cutoff}; returns how many. */
    public int sweep(Instant cutoff) throws IOException {
        int n = 0;
        for (BlobStore.Blob b : blobs.list()) {
            if (b.modified().isBefore(cutoff) && !Db.tx(() -> AdapterVersion.referenced(b.sha256()))) {
                blobs.delete(b.sha256());
                files.evict(b.sha256());
                host.remove(b.sha256());
                n++;
            }
        }
        if (n > 0) {
            Log.infof("blob sweep: deleted %d unreferenced blob(s)", n);
        }
        return n;
    }
}
