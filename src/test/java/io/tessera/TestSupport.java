package io.tessera;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tessera.engine.Engine;
import io.tessera.engine.EngineOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** Paths, engines and file helpers shared by the engine tests. */
public final class TestSupport {
    public static final Path FIXTURES = Path.of("testdata/fixtures");
    public static final Path LLAMA_TINY = FIXTURES.resolve("models/llama-tiny");
    public static final Path DEMO_LLAMA = Path.of("models/demo-llama");
    public static final Path SEED_ADAPTERS = Path.of("adapters-store/seed");
    public static final ObjectMapper JSON = new ObjectMapper();

    private TestSupport() {
    }

    /** An engine on the CPU (tests compare against float32 references); capacity 0 = the model default. */
    public static Engine openCpu(Path modelDir, int maxSequences, int cacheCapacity) {
        return Engine.open(new EngineOptions(modelDir, EngineOptions.Device.CPU, maxSequences, cacheCapacity));
    }

    /** Copies the files of a flat directory (model and adapter directories are flat). */
    public static Path copyDir(Path from, Path to) {
        try (Stream<Path> files = Files.list(from)) {
            Files.createDirectories(to);
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
            return to;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Edits a JSON config file in place. */
    public static void editJson(Path file, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(file.toFile());
        edit.accept(root);
        Files.writeString(file, JSON.writeValueAsString(root));
    }

    /** A safetensors file split into its JSON header and its data section, to corrupt one of them. */
    public record RawSafetensors(ObjectNode header, byte[] data) {
        public static RawSafetensors read(Path file) throws IOException {
            byte[] all = Files.readAllBytes(file);
            int n = (int) ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            ObjectNode header = (ObjectNode) JSON.readTree(new String(all, 8, n, StandardCharsets.UTF_8));
            return new RawSafetensors(header, Arrays.copyOfRange(all, 8 + n, all.length));
        }

        public ObjectNode tensor(String name) {
            return (ObjectNode) header.get(name);
        }

        /** Tensor names in header order (without __metadata__). */
        public List<String> names() {
            List<String> names = new ArrayList<>();
            header.fieldNames().forEachRemaining(n -> {
                if (!n.equals("__metadata__")) {
                    names.add(n);
                }
            });
            return names;
        }

        public long begin(String name) {
            return tensor(name).get("data_offsets").get(0).asLong();
        }

        public long end(String name) {
            return tensor(name).get("data_offsets").get(1).asLong();
        }

        public void setOffsets(String name, long begin, long end) {
            tensor(name).putArray("data_offsets").add(begin).add(end);
        }

        /** The file without one tensor: its bytes cut out and the later offsets moved down. */
        public RawSafetensors without(String name) {
            long b = begin(name);
            long e = end(name);
            ObjectNode h = header.deepCopy();
            h.remove(name);
            RawSafetensors out = new RawSafetensors(h, concat(Arrays.copyOfRange(data, 0, (int) b), Arrays.copyOfRange(data, (int) e, data.length)));
            for (String n : out.names()) {
                if (out.begin(n) >= e) {
                    out.setOffsets(n, out.begin(n) - (e - b), out.end(n) - (e - b));
                }
            }
            return out;
        }

        public void write(Path file) throws IOException {
            writeSafetensors(file, JSON.writeValueAsString(header), data);
        }
    }

    /** The file layout: u64 little-endian header length, the header, the data. */
    public static void writeSafetensors(Path file, String header, byte[] data) throws IOException {
        writeSafetensors(file, header.getBytes(StandardCharsets.UTF_8), data);
    }

    public static void writeSafetensors(Path file, byte[] header, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header).put(data);
        Files.write(file, b.array());
    }

    public static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Asserts an error message is one line naming the file and containing every fragment of the problem. */
    public static void assertOneLine(Throwable e, Path file, String... problem) {
        assertThat(e.getMessage()).doesNotContain("\n").contains(file.toString()).contains(problem);
    }
}
