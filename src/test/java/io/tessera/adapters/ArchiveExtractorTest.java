package io.tessera.adapters;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.adapters.Archives.Link;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArchiveExtractorTest {
    private static final ArchiveExtractor EXTRACTOR = new ArchiveExtractor(new ArchiveExtractor.Limits(8, 1 << 20, 20));

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
