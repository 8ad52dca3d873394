package io.tessera.adapters;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.zip.UnixStat;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/**
 * Builds test archives, good and hostile. Entry values: file bytes, a {@link Link} for a symbolic link, or (tar
 * only) a {@link Special} entry; a name ending in '/' is a directory.
 */
public final class Archives {
    public record Link(String target) {
    }

    /** A tar entry of another type: TarConstants.LF_FIFO, LF_CHR, LF_BLK... */
    public record Special(byte type) {
    }

    private Archives() {
    }

    /** The files of a directory, by name (flat: adapter directories are flat). */
    public static Map<String, Object> filesOf(Path dir) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                m.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return m;
    }

    public static byte[] zip(Map<String, Object> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(bytes)) {
            for (Map.Entry<String, Object> e : entries.entrySet()) {
                ZipArchiveEntry z = new ZipArchiveEntry(e.getKey());
                byte[] data;
                if (e.getValue() instanceof Link l) {
                    z.setUnixMode(UnixStat.LINK_FLAG | 0777);
                    data = l.target().getBytes();
                } else {
                    data = (byte[]) e.getValue();
                }
                zip.putArchiveEntry(z);
                zip.write(data);
                zip.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    public static byte[] tarGz(Map<String, Object> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GzipCompressorOutputStream(bytes);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Map.Entry<String, Object> e : entries.entrySet()) {
                if (e.getValue() instanceof Link l) {
                    TarArchiveEntry t = new TarArchiveEntry(e.getKey(), TarConstants.LF_SYMLINK);
                    t.setLinkName(l.target());
                    tar.putArchiveEntry(t);
                } else if (e.getValue() instanceof Special s) {
                    tar.putArchiveEntry(new TarArchiveEntry(e.getKey(), s.type()));
                } else if (e.getKey().endsWith("/")) {
                    tar.putArchiveEntry(new TarArchiveEntry(e.getKey()));
                } else {
                    byte[] data = (byte[]) e.getValue();
                    TarArchiveEntry t = new TarArchiveEntry(e.getKey(), true);
                    t.setSize(data.length);
                    tar.putArchiveEntry(t);
                    tar.write(data);
                }
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }
}
