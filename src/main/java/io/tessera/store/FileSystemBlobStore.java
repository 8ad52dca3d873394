package io.tessera.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Blobs as files under a root directory (by default {@code adapters-store/}). */
public final class FileSystemBlobStore implements BlobStore {
    /** Name of a blob being copied in: swept at start if a crash left it ({@link #sweepPartial}). */
    static final String PARTIAL_PREFIX = ".upload-";
    static final String PARTIAL_SUFFIX = ".tmp";

    private final Path root;
    private final long minFreeBytes;

    /**
     * @param minFreeBytes a blob that would leave less free space than this is refused (507) before it is written;
     *                     0: no check first (a copy that runs out of space still fails cleanly, with 507)
     */
    public FileSystemBlobStore(Path root, long minFreeBytes) {
        this.root = root.toAbsolutePath().normalize();
        this.minFreeBytes = minFreeBytes;
    }

    private Path path(String sha256) {
        return root.resolve(BlobStore.key(sha256));
    }

    @Override
    public void put(String sha256, Path file) throws IOException {
        Path target = path(sha256);
        if (Files.exists(target)) {
            // same bytes already there: refresh its age so the sweeper's grace period covers this upload too
            Files.setLastModifiedTime(target, FileTime.from(Instant.now()));
            return;
        }
        Path dir = Files.createDirectories(target.getParent());
        long size = Files.size(file);
        // the store's disk is often the metadata database's too: keep the reserve for it
        if (minFreeBytes > 0 && Files.getFileStore(dir).getUsableSpace() - size < minFreeBytes) {
            throw new InsufficientStorageException("the adapter store has no room for " + size + " more bytes (it keeps "
                    + minFreeBytes + " bytes free); try again once space is freed");
        }
        // copy beside the target, then rename: a reader never sees half a blob
        Path tmp = Files.createTempFile(dir, PARTIAL_PREFIX, PARTIAL_SUFFIX);
        try {
            Files.copy(file, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw InsufficientStorageException.whenFull(e, dir, size, "the adapter store");
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public int sweepPartial(Instant cutoff) throws IOException {
        Path dir = root.resolve("blobs/sha256");
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        int n = 0;
        try (Stream<Path> files = Files.walk(dir, 2)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String name = p.getFileName().toString();
                if (name.startsWith(PARTIAL_PREFIX) && name.endsWith(PARTIAL_SUFFIX) && Files.isRegularFile(p)
                        && Files.getLastModifiedTime(p).toInstant().isBefore(cutoff) && Files.deleteIfExists(p)) {
                    n++;
                }
            }
        }
        return n;
    }

    @Override
    public void get(String sha256, Path target) throws IOException {
        Path src = path(sha256);
        if (!Files.isRegularFile(src)) {
            throw new NoSuchFileException(BlobStore.key(sha256));
        }
        Files.copy(src, target, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public boolean exists(String sha256) {
        return Files.isRegularFile(path(sha256));
    }

    @Override
    public void delete(String sha256) throws IOException {
        Files.deleteIfExists(path(sha256));
    }

    @Override
    public List<Blob> list() throws IOException {
        Path dir = root.resolve("blobs/sha256");
        List<Blob> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> files = Files.walk(dir, 2)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String name = p.getFileName().toString();
                if (SHA256.matcher(name).matches()) {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                    out.add(new Blob(name, a.size(), a.lastModifiedTime().toInstant()));
                }
            }
        }
        return out;
    }
}
