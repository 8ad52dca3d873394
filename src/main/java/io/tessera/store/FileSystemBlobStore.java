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
    private final Path root;

    public FileSystemBlobStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
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
        Files.createDirectories(target.getParent());
        // copy beside the target, then rename: a reader never sees half a blob
        Path tmp = Files.createTempFile(target.getParent(), ".upload-", ".tmp");
        try {
            Files.copy(file, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
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
