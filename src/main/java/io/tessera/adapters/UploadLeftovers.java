package io.tessera.adapters;

import io.quarkus.logging.Log;
import io.quarkus.runtime.StartupEvent;
import io.tessera.config.RegistryConfig;
import io.tessera.store.BlobStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * What a process killed during an upload leaves behind, deleted at start: unpack directories in the work
 * directory ({@code upload-*}, {@code adapters/.unpack-*}), multipart bodies spooled to disk, and blobs half
 * copied into the store. Only what was last written before this process started goes: a live replica sharing a
 * directory keeps writing its own uploads, so they are newer.
 */
@ApplicationScoped
public class UploadLeftovers {
    /** Vert.x names a spooled multipart body by a random UUID; nothing else in that directory is touched. */
    private static final Pattern MULTIPART = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    @Inject
    RegistryConfig config;
    @Inject
    BlobStore blobs;

    void atStart(@Observes StartupEvent e) {
        sweep(processStart());
    }

    public static Instant processStart() {
        return Instant.ofEpochMilli(ManagementFactory.getRuntimeMXBean().getStartTime());
    }

    /** Deletes leftovers last written before {@code cutoff}; returns how many. A failure is logged, never thrown. */
    public int sweep(Instant cutoff) {
        Path work = Path.of(config.workDir());
        Path multipart = Path.of(ConfigProvider.getConfig().getOptionalValue("quarkus.http.body.uploads-directory", String.class)
                .orElse(System.getProperty("java.io.tmpdir") + "/uploads"));
        int n = stale(work, cutoff, name -> name.startsWith("upload-"))
                + stale(work.resolve("adapters"), cutoff, name -> name.startsWith(".unpack-"))
                + stale(multipart, cutoff, name -> MULTIPART.matcher(name).matches());
        try {
            n += blobs.sweepPartial(cutoff);
        } catch (IOException | UncheckedIOException ex) {
            Log.warnf("could not sweep half-written blobs: %s", ex.getMessage());
        }
        if (n > 0) {
            Log.infof("deleted %d leftover(s) of uploads interrupted before this process started", n);
        }
        return n;
    }

    /** Deletes the entries of {@code dir} so named whose newest file or directory is older than {@code cutoff}. */
    private static int stale(Path dir, Instant cutoff, Predicate<String> named) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        int n = 0;
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> found = s.filter(p -> named.test(p.getFileName().toString())).toList();
            for (Path p : found) {
                if (lastWritten(p).isBefore(cutoff)) {
                    AdapterRegistry.deleteTree(p);
                    n++;
                }
            }
        } catch (IOException | UncheckedIOException e) {
            Log.warnf("could not sweep %s: %s", dir, e.getMessage());
        }
        return n;
    }

    /** The newest modification time in a tree: a directory's own does not change while a file in it is written. */
    private static Instant lastWritten(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            return s.map(f -> {
                try {
                    return Files.getLastModifiedTime(f).toInstant();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).max(Instant::compareTo).orElse(Instant.MAX);
        }
    }
}
