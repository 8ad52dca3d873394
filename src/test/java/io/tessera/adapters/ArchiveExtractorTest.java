package io.tessera.adapters;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.adapters.Archives.Link;
import io.tessera.adapters.Archives.Special;
import io.tessera.persistence.RegistryException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArchiveExtractorTest {
    private static final ArchiveExtractor EXTRACTOR = new ArchiveExtractor(new ArchiveExtractor.Limits(8, 1 << 20, 20, 1024));

    @TempDir
    Path tmp;

    private Path extract(byte[] archive) throws IOException {
        Path a = tmp.resolve("upload");
        Files.write(a, archive);
        Path out = Files.createTempDirectory(tmp, "out");
        EXTRACTOR.extract(a, out);
        return out;
    }

    private void refused(byte[] archive, RegistryException.Problem problem, String message) {
        assertThatThrownBy(() -> extract(archive)).isInstanceOfSatisfying(RegistryException.class, e -> {
            assertThat(e.problem()).as(e.getMessage()).isEqualTo(problem);
            assertThat(e.getMessage()).contains(message);
        });
        // nothing escaped the output directory
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).allMatch(n -> n.equals("upload") || n.startsWith("out"));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void unpacksZipAndTarGzWithAndWithoutTopDirectory() throws IOException {
        Map<String, Object> files = Map.of("a/adapter_config.json", "{}".getBytes(), "a/x.bin", new byte[] {1, 2});
        Path z = extract(Archives.zip(files));
        assertThat(Files.readString(z.resolve("a/adapter_config.json"))).isEqualTo("{}");
        assertThat(AdapterInspector.adapterDir(z)).isEqualTo(z.resolve("a"));
        Path t = extract(Archives.tarGz(Map.of("adapter_config.json", "{}".getBytes())));
        assertThat(AdapterInspector.adapterDir(t)).isEqualTo(t);
    }

    @Test
    void refusesZipSlip() {
        refused(zipOf("../evil.txt"), RegistryException.Problem.INVALID, "contains '..'");
        refused(zipOf("a/../../evil.txt"), RegistryException.Problem.INVALID, "contains '..'");
    }

    @Test
    void refusesAbsolutePaths() throws IOException {
        refused(zipOf("/etc/evil.txt"), RegistryException.Problem.INVALID, "absolute");
        refused(Archives.tarGz(Map.of("/tmp/evil.txt", new byte[1])), RegistryException.Problem.INVALID, "absolute");
        refused(zipOf("C:\\evil.txt"), RegistryException.Problem.INVALID, "absolute");
    }

    @Test
    void refusesLinks() throws IOException {
        refused(Archives.zip(Map.of("adapter_model.safetensors", new Link("/etc/passwd"))), RegistryException.Problem.INVALID, "symbolic link");
        refused(Archives.tarGz(Map.of("adapter_model.safetensors", new Link("/etc/passwd"))), RegistryException.Problem.INVALID, "link");
    }

    @Test
    void refusesBombsTooManyEntriesAndDuplicates() throws IOException {
        refused(Archives.zip(Map.of("zeros", new byte[4 << 20])), RegistryException.Problem.TOO_LARGE, "archive bomb");
        refused(Archives.tarGz(Map.of("zeros", new byte[4 << 20])), RegistryException.Problem.TOO_LARGE, "archive bomb");
        Map<String, Object> many = new LinkedHashMap<>();
        for (int i = 0; i < 9; i++) {
            many.put("f" + i, new byte[1]);
        }
        refused(Archives.zip(many), RegistryException.Problem.TOO_LARGE, "more than 8 entries");
        Map<String, Object> dup = new LinkedHashMap<>();
        dup.put("a", new byte[1]);
        dup.put("./a", new byte[1]);
        refused(Archives.zip(dup), RegistryException.Problem.INVALID, "appears twice");
    }

    @Test
    void refusesFifosAndDevicesInTars() throws IOException {
        refused(special(TarConstants.LF_FIFO), RegistryException.Problem.REJECTED, "archive entry adapter_model.safetensors is a FIFO");
        refused(special(TarConstants.LF_CHR), RegistryException.Problem.REJECTED, "is a character device");
        refused(special(TarConstants.LF_BLK), RegistryException.Problem.REJECTED, "is a block device");
        refused(special((byte) 'S'), RegistryException.Problem.REJECTED, "is a special file (tar type 'S')");
    }

    private static byte[] special(byte type) throws IOException {
        Map<String, Object> files = new LinkedHashMap<>();
        files.put("adapter_config.json", "{}".getBytes());
        files.put("adapter_model.safetensors", new Special(type));
        return Archives.tarGz(files);
    }

    @Test
    void refusesAFileAndADirectoryOfTheSameName() throws IOException {
        for (boolean zip : new boolean[] {true, false}) {
            refused(archive(zip, "x", new byte[1], "x/y", new byte[1]), RegistryException.Problem.REJECTED,
                    "archive entry x/y is inside x, which is a file");
            refused(archive(zip, "x/", new byte[0], "x", new byte[1]), RegistryException.Problem.REJECTED,
                    "archive entry x is a file where another entry has a directory");
            refused(archive(zip, "x/y", new byte[1], "x", new byte[1]), RegistryException.Problem.REJECTED,
                    "archive entry x is a file where another entry has a directory");
            refused(archive(zip, "x", new byte[1], "x/", new byte[0]), RegistryException.Problem.REJECTED,
                    "archive entry x/ is a directory where another entry has a file");
        }
        // a directory listed after its files, and tar's "./", are fine
        Path out = extract(Archives.tarGz(ordered("./", new byte[0], "./a/b", new byte[] {7}, "./a/", new byte[0])));
        assertThat(Files.readAllBytes(out.resolve("a/b"))).containsExactly(7);
    }

    private static Map<String, Object> ordered(Object... nameThenValue) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < nameThenValue.length; i += 2) {
            m.put((String) nameThenValue[i], nameThenValue[i + 1]);
        }
        return m;
    }

    private static byte[] archive(boolean zip, Object... nameThenValue) throws IOException {
        return zip ? Archives.zip(ordered(nameThenValue)) : Archives.tarGz(ordered(nameThenValue));
    }

    @Test
    void refusesAnOversizedConfigFromItsDeclaredSize() throws IOException {
        byte[] config = ("{\"x\": \"" + " ".repeat(4000) + "\"}").getBytes();
        refused(Archives.zip(Map.of("a/adapter_config.json", config)), RegistryException.Problem.TOO_LARGE,
                "archive entry a/adapter_config.json is over the limit of 1024 bytes for adapter_config.json");
        refused(Archives.tarGz(Map.of("adapter_config.json", config)), RegistryException.Problem.TOO_LARGE,
                "is over the limit of 1024 bytes for adapter_config.json");
    }

    @Test
    void stopsAnOversizedConfigThatUnderstatesItsSize() throws IOException {
        byte[] zip = Archives.zip(Map.of("adapter_config.json", ("{\"x\": \"" + " ".repeat(4000) + "\"}").getBytes()));
        // the central directory says 10 bytes: only the count of bytes inflated can tell
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        int cd = indexOf(zip, new byte[] {'P', 'K', 1, 2});
        b.putInt(cd + 24, 10);
        refused(zip, RegistryException.Problem.TOO_LARGE, "is over the limit of 1024 bytes for adapter_config.json");
    }

    private static int indexOf(byte[] in, byte[] what) {
        outer:
        for (int i = 0; i + what.length <= in.length; i++) {
            for (int j = 0; j < what.length; j++) {
                if (in[i + j] != what[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

    @Test
    void refusesAMemberThatDeclaresMoreThanTheBudget() throws IOException {
        // 600 MB declared in a tiny tar header: refused before a byte of it is read
        refused(gzip(tarHeader("adapter_model.safetensors", '0', 600_000_000L)), RegistryException.Problem.TOO_LARGE,
                "archive entry adapter_model.safetensors declares 600000000 bytes");
    }

    @Test
    void refusesTarHeadersThatWouldFillTheHeap() throws IOException {
        // a GNU long name of 4 MB (the parser reads it whole) in a few KB of .tar.gz
        java.io.ByteArrayOutputStream tar = new java.io.ByteArrayOutputStream();
        tar.write(tarHeader("././@LongLink", 'L', 4 << 20));
        tar.write(new byte[4 << 20]);
        tar.write(tarHeader("ignored", '0', 0));
        refused(gzip(tar.toByteArray()), RegistryException.Problem.TOO_LARGE, "archive's tar headers (names, PAX records) take more than");
        // ordinary PAX headers are far below the bound
        Map<String, Object> files = new LinkedHashMap<>();
        files.put("d/" + "n".repeat(200) + "/adapter_config.json", "{}".getBytes());
        assertThat(extract(Archives.tarGz(files)).resolve("d")).isDirectory();
    }

    /** A ustar header block: name, type flag and size, with its checksum. */
    private static byte[] tarHeader(String name, char type, long size) {
        byte[] h = new byte[512];
        System.arraycopy(name.getBytes(), 0, h, 0, name.length());
        System.arraycopy(String.format("%07o\0", 0644).getBytes(), 0, h, 100, 8);
        System.arraycopy(String.format("%011o\0", size).getBytes(), 0, h, 124, 12);
        h[156] = (byte) type;
        System.arraycopy("ustar\00000".getBytes(), 0, h, 257, 8);
        java.util.Arrays.fill(h, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        System.arraycopy(String.format("%06o\0 ", sum).getBytes(), 0, h, 148, 8);
        return h;
    }

    private static byte[] gzip(byte[] raw) throws IOException {
        java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
        try (var out = new org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream(gz)) {
            out.write(raw);
        }
        return gz.toByteArray();
    }

    @Test
    void refusesAZipWithMoreEntriesThanItCouldHoldBeforeParsingThem() throws IOException {
        Map<String, Object> many = new LinkedHashMap<>();
        for (int i = 0; i < 2000; i++) {
            many.put("f" + i, new byte[0]);
        }
        byte[] zip = Archives.zip(many);
        refused(zip, RegistryException.Problem.TOO_LARGE, "archive's central directory spans");
        assertThat(ArchiveExtractor.centralDirectoryExtent(tmp.resolve("upload"))).isBetween(2000L * 46, (long) zip.length);
        // an ordinary zip: its directory and end record only
        extract(Archives.zip(Map.of("adapter_config.json", "{}".getBytes())));
        assertThat(ArchiveExtractor.centralDirectoryExtent(tmp.resolve("upload"))).isLessThan(200);
    }

    @Test
    void refusesOverlongNames() throws IOException {
        refused(zipOf("a".repeat(256)), RegistryException.Problem.INVALID, "has a path component longer than 255 bytes");
        refused(zipOf("a/".repeat(600) + "b"), RegistryException.Problem.INVALID, "archive entry name is longer than 1024 bytes");
    }

    @Test
    void refusesGarbageAfterAnArchiveHeader() {
        byte[] bad = new byte[100];
        bad[0] = 'P';
        bad[1] = 'K';
        refused(bad, RegistryException.Problem.INVALID, "not a readable zip archive");
        bad[0] = (byte) 0x1f;
        bad[1] = (byte) 0x8b;
        refused(bad, RegistryException.Problem.INVALID, "not a readable .tar.gz archive");
    }

    @Test
    void refusesWhatIsNoArchive() {
        refused("just text".getBytes(), RegistryException.Problem.INVALID, "not a .zip or .tar.gz");
    }

    private static byte[] zipOf(String name) {
        try {
            return Archives.zip(Map.of(name, "x".getBytes()));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
