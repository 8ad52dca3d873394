package io.tessera.adapters;

import static io.tessera.persistence.RegistryException.Problem.INVALID;
import static io.tessera.persistence.RegistryException.Problem.REJECTED;
import static io.tessera.persistence.RegistryException.Problem.TOO_LARGE;

import io.tessera.engine.adapter.AdapterConfig;
import io.tessera.engine.adapter.AdapterLoader;
import io.tessera.persistence.RegistryException;
import io.tessera.store.InsufficientStorageException;
import io.tessera.util.CountingInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Unpacks an uploaded .zip or .tar.gz into an empty directory, refusing anything that could write outside it or
 * exhaust the disk or memory: absolute paths, {@code ..}, links, devices and FIFOs, duplicates and file/directory
 * conflicts, and more entries, bytes or expansion than the limits allow. Sizes an entry declares are checked
 * before it is read, and bytes are counted as written, since a declared size may lie. A malformed archive is the
 * request's fault (4xx); a write that fails is the server's (507 when the disk is full).
 */
public final class ArchiveExtractor {
    /** The one file the loader reads whole into memory; its bound is {@link Limits#maxConfigBytes()}. */
    static final String CONFIG = AdapterConfig.FILE;
    /** Linux's limits on one path component and on a whole path, with room for the work directory. */
    private static final int MAX_NAME_BYTES = 255;
    private static final int MAX_PATH_BYTES = 1024;

    /**
     * @param maxRatio       unpacked bytes per archive byte
     * @param maxConfigBytes largest adapter_config.json
     */
    public record Limits(int maxEntries, long maxUnpackedBytes, long maxRatio, long maxConfigBytes) {
    }

    private final Limits limits;

    public ArchiveExtractor(Limits limits) {
        this.limits = limits;
    }

    public void extract(Path archive, Path target) throws IOException {
        long archiveBytes = Files.size(archive);
        long ratioBound = Math.max(archiveBytes, 1) > Long.MAX_VALUE / limits.maxRatio() ? Long.MAX_VALUE
                : Math.max(archiveBytes, 1) * limits.maxRatio();
        Budget budget = new Budget(target, Math.min(limits.maxUnpackedBytes(), ratioBound));
        byte[] magic = new byte[4];
        try (InputStream in = Files.newInputStream(archive)) {
            in.readNBytes(magic, 0, 4);
        }
        boolean zip = magic[0] == 'P' && magic[1] == 'K';
        if (!zip && !((magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b)) {
            throw new RegistryException(INVALID, "file: not a .zip or .tar.gz archive");
        }
        try {
            if (zip) {
                zip(archive, budget);
            } else {
                tarGz(archive, budget);
            }
        } catch (RegistryException | UncheckedIOException | InsufficientStorageException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // what the parsers throw on hostile bytes, checked or not
            throw new RegistryException(INVALID, "file: not a readable " + (zip ? "zip" : ".tar.gz") + " archive ("
                    + AdapterLoader.brief(String.valueOf(e.getMessage())) + ")");
        }
    }

    private void zip(Path archive, Budget budget) throws IOException {
        long centralDirectory = centralDirectoryExtent(archive);
        long bound = (long) limits.maxEntries() * (46 + MAX_PATH_BYTES + 1024) + END_RECORDS_BYTES;
        if (centralDirectory > bound) {
            throw new RegistryException(TOO_LARGE, "archive's central directory spans " + centralDirectory + " bytes, more than "
                    + limits.maxEntries() + " entries can take (" + bound + ")");
        }
        // the central directory is what unzip tools obey, so read it rather than the local headers
        try (ZipFile zip = ZipFile.builder().setPath(archive).get()) {
            for (Enumeration<ZipArchiveEntry> en = zip.getEntries(); en.hasMoreElements(); ) {
                ZipArchiveEntry e = en.nextElement();
                if (e.isUnixSymlink()) {
                    throw new RegistryException(INVALID, "archive entry " + e.getName() + " is a symbolic link");
                }
                Path out = budget.place(e.getName(), e.isDirectory(), e.getSize(), limits);
                if (!e.isDirectory()) {
                    try (InputStream in = zip.getInputStream(e)) {
                        budget.copy(in, out, e.getName(), limits);
                    }
                }
            }
        }
    }

    /** The end-of-central-directory record with the largest comment, the zip64 locator and the zip64 record. */
    private static final int END_RECORDS_BYTES = 22 + 0xffff + 20 + 56;

    /**
     * How many bytes from the earliest place the central directory may start (by any of the offsets and sizes
     * the end records give) to the end of the file. ZipFile reads every entry there into memory before the first
     * can be refused: a 90 MB zip of a million empty entries takes half a gigabyte of heap and eight seconds.
     * Without end records: 0 (ZipFile refuses the file).
     */
    static long centralDirectoryExtent(Path archive) throws IOException {
        try (FileChannel ch = FileChannel.open(archive)) {
            long size = ch.size();
            int tailBytes = (int) Math.min(size, END_RECORDS_BYTES);
            ByteBuffer tail = read(ch, size - tailBytes, tailBytes);
            for (int i = tailBytes - 22; i >= 0; i--) {
                if (tail.getInt(i) != 0x06054b50) {
                    continue;
                }
                long eocd = size - tailBytes + i;
                long start = Math.min(tail.getInt(i + 16) & 0xffffffffL, eocd - (tail.getInt(i + 12) & 0xffffffffL));
                if (i >= 20 && tail.getInt(i - 20) == 0x07064b50) {
                    long z64 = tail.getLong(i - 20 + 8);
                    if (z64 >= 0 && z64 <= eocd - 56) {
                        ByteBuffer rec = read(ch, z64, 56);
                        start = Math.min(start, Math.min(rec.getLong(48), z64 - rec.getLong(40)));
                    }
                }
                return size - Math.max(0, start);
            }
            return 0;
        }
    }

    private static ByteBuffer read(FileChannel ch, long at, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining() && ch.read(b, at + b.position()) >= 0) {
            // until full, or the end of the file
        }
        return b.clear();
    }

    private void tarGz(Path archive, Budget budget) throws IOException {
        try (InputStream raw = Files.newInputStream(archive);
             TarArchiveInputStream tar = new TarArchiveInputStream(new HeaderBound(new GzipCompressorInputStream(raw), budget,
                     (long) (limits.maxEntries() + 4) * TAR_HEADER_BYTES_PER_ENTRY))) {
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                if (e.isSymbolicLink() || e.isLink()) {
                    throw new RegistryException(INVALID, "archive entry " + e.getName() + " is a link");
                }
                // by type flag: isFile() is also true of FIFOs and devices, which would unpack as empty files
                byte type = e.getLinkFlag();
                boolean file = type == TarConstants.LF_NORMAL || type == TarConstants.LF_OLDNORM || type == TarConstants.LF_CONTIG;
                if (!file && !e.isDirectory()) {
                    throw new RegistryException(REJECTED, "archive entry " + e.getName() + " is a "
                            + (e.isFIFO() ? "FIFO" : e.isCharacterDevice() ? "character device" : e.isBlockDevice()
                            ? "block device" : "special file (tar type '" + (char) type + "')") + "; only files and directories are allowed");
                }
                Path out = budget.place(e.getName(), e.isDirectory(), e.getSize(), limits);
                if (!e.isDirectory()) {
                    budget.copy(tar, out, e.getName(), limits);
                }
            }
        }
    }

    /** Headers, padding, long names and PAX records of one tar entry, generously: real ones take 1 to 3 KB. */
    private static final int TAR_HEADER_BYTES_PER_ENTRY = 16 * 1024;

    /**
     * Counts what the tar parser reads beyond the file bytes the budget has seen: the parser reads a GNU long name
     * or a PAX record whole into memory before it returns the entry (300 MB of name fit in a 300 KB .tar.gz).
     */
    private static final class HeaderBound extends CountingInputStream {
        private final Budget budget;
        private final long maxHeaderBytes;

        HeaderBound(InputStream in, Budget budget, long maxHeaderBytes) {
            super(in);
            this.budget = budget;
            this.maxHeaderBytes = maxHeaderBytes;
        }

        @Override
        protected void counted(long read) {
            // the copy buffer's bytes count as read before they count as written
            if (read - budget.written > maxHeaderBytes + COPY_BUFFER) {
                throw new RegistryException(TOO_LARGE, "archive's tar headers (names, PAX records) take more than "
                        + maxHeaderBytes + " bytes");
            }
        }
    }

    private static final int COPY_BUFFER = 64 * 1024;

    /** Entries placed so far (to refuse duplicates and conflicts) and bytes written. */
    private static final class Budget {
        private final Path root;
        private final long maxBytes;
        private final Set<String> names = new HashSet<>();
        private int entries;
        /** Every path placed, directories implied by a deeper entry included: true for a directory. */
        private final Map<Path, Boolean> kinds = new HashMap<>();
        private long written;

        Budget(Path root, long maxBytes) {
            this.root = root;
            this.maxBytes = maxBytes;
        }

        /** Checks an entry's name, kind and declared size (-1: unknown) and creates its directories. */
        Path place(String name, boolean dir, long declared, Limits limits) throws IOException {
            if (++entries > limits.maxEntries()) {
                throw new RegistryException(TOO_LARGE, "archive has more than " + limits.maxEntries() + " entries");
            }
            Path out = root.resolve(safeName(name)).normalize();
            if (!out.startsWith(root)) {
                throw new RegistryException(INVALID, "archive entry " + name + " leaves the archive root");
            }
            if (out.equals(root)) {
                // "./", as tar -C dir . writes it, is the root itself
                if (dir) {
                    return root;
                }
                throw new RegistryException(INVALID, "archive entry " + name + " is a file in place of the archive root");
            }
            Path rel = root.relativize(out);
            Boolean wasDir = kinds.get(rel);
            if (wasDir != null && wasDir != dir) {
                throw new RegistryException(REJECTED, "archive entry " + name + " is a " + (dir ? "directory" : "file")
                        + " where another entry has a " + (dir ? "file" : "directory"));
            }
            if (!names.add(rel.toString())) {
                throw new RegistryException(INVALID, "archive entry " + name + " appears twice");
            }
            for (Path p = rel.getParent(); p != null; p = p.getParent()) {
                if (Boolean.FALSE.equals(kinds.put(p, true))) {
                    throw new RegistryException(REJECTED, "archive entry " + name + " is inside " + p + ", which is a file");
                }
            }
            kinds.put(rel, dir);
            if (!dir) {
                if (isConfig(out) && declared > limits.maxConfigBytes()) {
                    throw configTooLarge(name, limits);
                }
                if (declared > maxBytes - written) {
                    throw new RegistryException(TOO_LARGE, "archive entry " + name + " declares " + declared
                            + " bytes: the archive would expand past " + maxBytes
                            + " bytes (size or compression-ratio limit: an archive bomb?)");
                }
            }
            try {
                Files.createDirectories(dir ? out : out.getParent());
            } catch (IOException e) {
                throw writeFailed(e, out, 4096);
            }
            return out;
        }

        void copy(InputStream in, Path out, String name, Limits limits) throws IOException {
            long entryMax = isConfig(out) ? limits.maxConfigBytes() : Long.MAX_VALUE;
            long entry = 0;
            byte[] buf = new byte[COPY_BUFFER];
            OutputStream os;
            try {
                os = Files.newOutputStream(out, StandardOpenOption.CREATE_NEW);
            } catch (IOException e) {
                throw writeFailed(e, out, 4096);
            }
            try (os) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    written += n;
                    entry += n;
                    if (entry > entryMax) {
                        throw configTooLarge(name, limits);
                    }
                    if (written > maxBytes) {
                        throw new RegistryException(TOO_LARGE, "archive expands past " + maxBytes
                                + " bytes at entry " + name + " (size or compression-ratio limit: an archive bomb?)");
                    }
                    try {
                        os.write(buf, 0, n);
                    } catch (IOException e) {
                        throw writeFailed(e, out, n);
                    }
                }
            }
        }

        private static boolean isConfig(Path p) {
            return p.getFileName().toString().equals(CONFIG);
        }

        private static RegistryException configTooLarge(String name, Limits limits) {
            return new RegistryException(TOO_LARGE, "archive entry " + name + " is over the limit of "
                    + limits.maxConfigBytes() + " bytes for " + CONFIG);
        }

        /**
         * The server's disk failed, not the archive: the exception for 507 when it is full; anything else is thrown
         * unchecked here, past extract()'s mapping of read errors to "not a readable archive".
         */
        private static IOException writeFailed(IOException e, Path out, long needed) {
            IOException full = InsufficientStorageException.whenFull(e, out.getParent(), needed, "the upload work directory");
            if (full instanceof InsufficientStorageException) {
                return full;
            }
            throw new UncheckedIOException(e);
        }

        private static String safeName(String name) {
            String n = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
            if (n.isEmpty() || n.startsWith("/") || n.contains("\\") || n.indexOf('\0') >= 0 || n.matches("^[A-Za-z]:.*")) {
                throw new RegistryException(INVALID, "archive entry " + name + " has an absolute or malformed path");
            }
            if (n.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
                throw new RegistryException(INVALID, "archive entry name is longer than " + MAX_PATH_BYTES + " bytes");
            }
            for (String part : n.split("/")) {
                if (part.equals("..")) {
                    throw new RegistryException(INVALID, "archive entry " + name + " contains '..'");
                }
                if (part.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
                    throw new RegistryException(INVALID, "archive entry " + name + " has a path component longer than "
                            + MAX_NAME_BYTES + " bytes");
                }
            }
            return n;
        }
    }
}
