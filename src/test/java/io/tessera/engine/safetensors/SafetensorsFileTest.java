package io.tessera.engine.safetensors;

import static io.tessera.TestSupport.assertOneLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.TestSupport;
import io.tessera.engine.safetensors.CheckpointException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors reader: F32 round trip, half-precision widening, and the structural checks it must refuse. */
class SafetensorsFileTest {
    @TempDir
    Path dir;

    private Path write(String header, byte[] data) throws IOException {
        Path f = dir.resolve("t.safetensors");
        TestSupport.writeSafetensors(f, header, data);
        return f;
    }

    private static byte[] halves(int... bits) {
        ByteBuffer b = ByteBuffer.allocate(2 * bits.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : bits) {
            b.putShort((short) v);
        }
        return b.array();
    }

    private static void assertRefused(Path file, String... problem) {
        assertThatThrownBy(() -> SafetensorsFile.open(file).close())
                .isExactlyInstanceOf(CheckpointException.class)
                .satisfies(e -> assertOneLine(e, file, problem));
    }

    @Test
    void f32RoundTripThroughTheWriter() throws IOException {
        float[] a = {1.5f, -0.0f, Float.MIN_VALUE, 3.4e38f, -7.25f, 1e-30f};
        float[] b = {42f, -1f};
        Path f = dir.resolve("rt.safetensors");
        new SafetensorsWriter().add("a", a, 2, 3).add("b", b, 2).write(f);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertThat(st.tensors()).containsOnlyKeys("a", "b");
            assertThat(st.metadata()).isEqualTo(Map.of("format", "pt"));
            TensorInfo ta = st.info("a");
            assertThat(ta.dtype()).isEqualTo(DType.F32);
            assertThat(ta.shape()).containsExactly(2, 3);
            assertThat(ta.begin()).isZero();
            assertThat(ta.end()).isEqualTo(24);
            assertThat(st.info("b").begin()).isEqualTo(24);
            assertThat(st.readFloats("a")).containsExactly(a);
            assertThat(st.readFloats("b")).containsExactly(b);
        }
    }

    @Test
    void f16IsWidenedExactly() throws IOException {
        Path f = write("{\"h\":{\"dtype\":\"F16\",\"shape\":[11],\"data_offsets\":[0,22]}}", halves(
                0x3C00, 0xC000, 0x3555, 0x7BFF, 0x0400, 0x03FF, 0x0001, 0x8000, 0x7C00, 0xFC00, 0x7E00));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertThat(st.readFloats("h")).containsExactly(
                    1f, -2f,
                    0.33325195f,          // 0x3555: (1 + 341/1024) * 2^-2
                    65504f,               // largest finite half
                    0x1p-14f,             // smallest normal
                    1023 * 0x1p-24f,      // largest subnormal
                    0x1p-24f,             // smallest subnormal
                    -0f,
                    Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN);
        }
    }

    @Test
    void bf16IsWidenedExactly() throws IOException {
        Path f = write("{\"h\":{\"dtype\":\"BF16\",\"shape\":[9],\"data_offsets\":[0,18]}}", halves(
                0x3F80, 0xC040, 0x3EAB, 0x4049, 0x0001, 0x8000, 0x7F80, 0xFF80, 0x7FC0));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertThat(st.readFloats("h")).containsExactly(
                    1f, -3f,
                    0.333984375f,         // 0x3EAB: (1 + 43/128) * 2^-2
                    3.140625f,            // 0x4049: (1 + 73/128) * 2
                    0x1p-133f,            // the lowest mantissa bit of a float subnormal
                    -0f,
                    Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN);
        }
    }

    @Test
    void trailingBytesAreRefused() throws IOException {
        Path f = write("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[12]);
        assertRefused(f, "4 trailing bytes after the last tensor");
    }

    @Test
    void gapBetweenTensorsIsRefused() throws IOException {
        Path f = write("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", new byte[20]);
        assertRefused(f, "gap before tensor b", "offset 12, expected 8");
    }

    @Test
    void unknownDtypeIsRefused() throws IOException {
        Path f = write("{\"a\":{\"dtype\":\"F12\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]);
        assertRefused(f, "tensor a", "unknown dtype F12");
    }

    @Test
    void nonStringMetadataIsRefused() throws IOException {
        Path f = write("{\"__metadata__\":{\"format\":1},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]);
        assertRefused(f, "__metadata__ value of format is not a string");
    }

    @Test
    void metadataThatIsNotAnObjectIsRefused() throws IOException {
        Path f = write("{\"__metadata__\":[\"pt\"],\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]);
        assertRefused(f, "__metadata__ is not an object");
    }

    @Test
    void headerThatIsNotUtf8IsRefused() throws IOException {
        byte[] header = "{\"a?\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}".getBytes(StandardCharsets.US_ASCII);
        header[3] = (byte) 0xFF;   // never valid in UTF-8
        Path f = dir.resolve("t.safetensors");
        TestSupport.writeSafetensors(f, header, new byte[8]);
        assertRefused(f, "header is not valid UTF-8");
    }

    @Test
    void headerPaddedWithSpacesIsAccepted() throws IOException {
        // the reference writer pads the header with spaces so the data starts 8-byte aligned
        Path f = write("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}   ", new byte[] {0, 0, (byte) 0x80, 0x3F});
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertThat(st.readFloats("a")).containsExactly(1f);
        }
    }

    @Test
    void junkAfterTheHeaderObjectIsRefused() throws IOException {
        Path f = write("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} {}", new byte[8]);
        assertRefused(f, "header is not valid JSON");
    }

    @Test
    void shapeTimesDtypeOverflowIsRefused() throws IOException {
        // 2^62 * 4 elements * 4 bytes wraps a long to 0, which would match the empty data_offsets
        Path f = write("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,0]}}", new byte[0]);
        assertRefused(f, "tensor a", "overflows");
    }
}
