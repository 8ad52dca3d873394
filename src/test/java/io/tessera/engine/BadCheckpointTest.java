package io.tessera.engine;

import static io.tessera.TestSupport.JSON;
import static io.tessera.TestSupport.LLAMA_TINY;
import static io.tessera.TestSupport.assertOneLine;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.TestSupport;
import io.tessera.TestSupport.RawSafetensors;
import io.tessera.engine.safetensors.CheckpointException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broken model directories (copies of the llama-tiny fixture with one thing wrong) are refused by Engine.open
 * with a CheckpointException whose message is one line naming the file and the problem.
 */
class BadCheckpointTest {
    private static final String K_PROJ = "model.layers.1.self_attn.k_proj.weight";

    @TempDir
    Path dir;
    Path weights;
    Path config;

    @BeforeEach
    void copyFixture() {
        TestSupport.copyDir(LLAMA_TINY, dir);
        weights = dir.resolve("model.safetensors");
        config = dir.resolve("config.json");
    }

    private void assertRefused(Path file, String... problem) {
        assertThatThrownBy(() -> TestSupport.openCpu(dir, 1, 0).close())
                .isExactlyInstanceOf(CheckpointException.class)
                .satisfies(e -> assertOneLine(e, file, problem));
    }

    private void truncate(long size) throws IOException {
        try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    @Test
    void fileShorterThanTheHeaderLength() throws IOException {
        truncate(5);
        assertRefused(weights, "truncated", "5 bytes");
    }

    @Test
    void fileCutInTheMiddleOfTheData() throws IOException {
        truncate(Files.size(weights) - 1000);
        assertRefused(weights, "past the end of the data", "truncated");
    }

    @Test
    void headerLengthPastTheEndOfTheFile() throws IOException {
        long size = Files.size(weights);
        try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, size), 0);
        }
        assertRefused(weights, "header length " + size, "past the end of the file");
    }

    @Test
    void overlappingOffsets() throws IOException {
        RawSafetensors st = RawSafetensors.read(weights);
        // k_proj starts 256 bytes inside the tensor before it (same length, so only the position is wrong)
        st.setOffsets(K_PROJ, st.begin(K_PROJ) - 256, st.end(K_PROJ) - 256);
        st.write(weights);
        assertRefused(weights, "tensor " + K_PROJ + " overlaps");
    }

    @Test
    void offsetsPastTheEndOfTheData() throws IOException {
        RawSafetensors st = RawSafetensors.read(weights);
        String last = lastByOffset(st);
        long shift = st.data().length;
        st.setOffsets(last, st.begin(last) + shift, st.end(last) + shift);
        st.write(weights);
        assertRefused(weights, "tensor " + last, "past the end of the data", "out-of-range offsets");
    }

    @Test
    void duplicateTensorInTheHeader() throws IOException {
        RawSafetensors st = RawSafetensors.read(weights);
        String header = JSON.writeValueAsString(st.header());
        // the same key twice, as a hand-edited or concatenated header would have it; JSON parsers keep one silently
        String duplicated = header.substring(0, header.length() - 1)
                + ",\"" + K_PROJ + "\":" + JSON.writeValueAsString(st.tensor(K_PROJ)) + "}";
        TestSupport.writeSafetensors(weights, duplicated, st.data());
        assertRefused(weights, "duplicate key", K_PROJ);
    }

    @Test
    void missingTensor() throws IOException {
        RawSafetensors.read(weights).without(K_PROJ).write(weights);
        assertRefused(weights, "missing tensor " + K_PROJ);
    }

    @Test
    void shapeDisagreesWithConfig() throws IOException {
        RawSafetensors st = RawSafetensors.read(weights);
        // stored transposed: same byte length, so only config.json can tell
        st.tensor(K_PROJ).putArray("shape").add(64).add(32);
        st.write(weights);
        assertRefused(weights, "tensor " + K_PROJ + " has shape [64, 32]", "config.json implies [32, 64]");
    }

    @Test
    void unsupportedModelType() throws IOException {
        TestSupport.editJson(config, c -> c.put("model_type", "gpt2"));
        assertRefused(config, "unsupported model_type 'gpt2'");
    }

    private static String lastByOffset(RawSafetensors st) {
        return st.names().stream().max(Comparator.comparingLong(st::begin)).orElseThrow();
    }
}
