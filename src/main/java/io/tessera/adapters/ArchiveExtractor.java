package io.tessera.adapters;

import static io.tessera.adapters.RegistryException.Problem.INVALID;
import static io.tessera.adapters.RegistryException.Problem.TOO_LARGE;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Unpacks an uploaded .zip or .tar.gz into an empty directory, refusing anything that could write outside it or
 * exhaust the disk: absolute paths, {@code ..}, links, devices, duplicates, and more entries, bytes or expansion
 * than the limits allow. Nothing is trusted from the archive's own size fields: bytes are counted as written.
 */
public final class ArchiveExtractor {
    /** @param maxRatio unpacked bytes per archive byte */
    public record Limits(int maxEntries, long maxUnpackedBytes, long maxRatio) {
    }

    private final Limits limits;

    public ArchiveExtractor(Limits limits) {
        this.limits = limits;
    }

    public void extract(Path archive, Path target) throws IOException {
        long archiveBytes = Files.size(archive);
        Budget budget = new Budget(Math.min(limits.maxUnpackedBytes(), Math.max(archiveBytes, 1) * limits.maxRatio()));
        byte[] magic = new byte[4];
        try (InputStream in = Files.newInputStream(archive)) {
            in.readNBytes(magic, 0, 4);
        }
        if (magic[0] == 'P' && magic[1] == 'K') {
            zip(archive, target, budget);
        } else if ((magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            tarGz(archive, target, budget);
        } else {
            throw new RegistryException(INVALID, "file: not a .zip or .tar.gz archive");
        }
    }

    private void zip(Path archive, Path target, Budget budget) throws IOException {
        // the central directory is what unzip tools obey, so read it rather than the local headers
        try (ZipFile zip = ZipFile.builder().setPath(archive).get()) {
            for (Enumeration<ZipArchiveEntry> en = zip.getEntries(); en.hasMoreElements(); ) {
                ZipArchiveEntry e = en.nextElement();
                if (e.isUnixSymlink()) {
                    throw new RegistryException(INVALID, "archive entry " + e.getName() + " is a symbolic link");
                }
                Path out = budget.place(target, e.getName(), e.isDirectory(), limits.maxEntries());
                if (!e.isDirectory()) {
                    try (InputStream in = zip.getInputStream(e)) {
                        budget.copy(in, out, e.getName());
                    }
                }
            }
        } catch (java.util.zip.ZipException e) {
            throw new RegistryException(INVALID, "file: not a readable zip archive (" + e.getMessage() + ")");
        }
    }

    private void tarGz(Path archive, Path target, Budget budget) throws IOException {
        try (InputStream raw = Files.newInputStream(archive);
             TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(raw))) {
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                if (e.isSymbolicLink() || e.isLink()) {
                    throw new RegistryException(INVALID, "archive entry " + e.getName() + " is a link");
                }
                if (!e.isFile() && !e.isDirectory()) {
                    throw new RegistryException(INVALID, "archive entry " + e.getName() + " is a device, FIFO or other special file");
                }
                Path out = budget.place(target, e.getName(), e.isDirectory(), limits.maxEntries());
                if (!e.isDirectory()) {
                    budget.copy(tar, out, e.getName());
                }
            }
        } catch (IOException e) {
            throw new RegistryException(INVALID, "file: not a readable .tar.gz archive (" + e.getMessage() + ")");
        }
    }

    /** Entry count, names seen and bytes written so far. */
    private static final class Budget {
        private final long maxBytes;
        private final Set<String> names = new HashSet<>();
        private long written;

        Budget(long maxBytes) {
            this.maxBytes = maxBytes;
        }

        Path place(Path root, String name, boolean dir, int maxEntries) throws IOException {
            if (names.size() >= maxEntries) {
                throw new RegistryException(TOO_LARGE, "archive has more than " + maxEntries + " entries");
            }
            Path out = root.resolve(safeName(name)).normalize();
            if (!out.startsWith(root)) {
                throw new RegistryException(INVALID, "archive entry " + name + " leaves the archive root");
            }
            if (!names.add(root.relativize(out).toString())) {
                throw new RegistryException(INVALID, "archive entry " + name + " appears twice");
            }
            Files.createDirectories(dir ? out : out.getParent());
            return out;
        }

        void copy(InputStream in, Path out, String name) throws IOException {
            byte[] buf = new byte[64 * 1024];
            try (OutputStream os = Files.newOutputStream(out, StandardOpenOption.CREATE_NEW)) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    written += n;
                    if (written > maxBytes) {
                        throw new RegistryException(TOO_LARGE, "archive expands past " + maxBytes
                                + " bytes at entry " + name + " (size or compression-ratio limit: an archive bomb?)");
                    }
                    os.write(buf, 0, n);
                }
            }
        }

        private static String safeName(String name) {
            String n = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
            if (n.isEmpty() || n.startsWith("/") || n.contains("\\") || n.indexOf('\0') >= 0 || n.matches("^[A-Za-z]:.*")) {
                throw new RegistryException(INVALID, "archive entry " + name + " has an absolute or malformed path");
            }
            for (String part : n.split("/")) {
                if (part.equals("..")) {
                    throw new RegistryException(INVALID, "archive entry " + name + " contains '..'");
                }
            }
            return n;
        }
    }
}
