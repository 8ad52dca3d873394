package io.tessera.cli;

import static io.tessera.TestSupport.FIXTURES;
import static io.tessera.TestSupport.LLAMA_TINY;
import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.TestSupport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A broken model or adapter given to the CLI ends in one line on stderr and exit status 1, never a stack trace. */
class MainErrorTest {
    @TempDir
    Path dir;

    record Outcome(int status, String stderr) {
    }

    private static Outcome run(String... argv) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        try (PrintStream capturedErr = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
             PrintStream discardedOut = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)) {
            System.setErr(capturedErr);
            System.setOut(discardedOut);
            int status = Main.run(argv);
            return new Outcome(status, errBytes.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    private static void assertOneLineError(Outcome o, Path file, String problem) {
        assertThat(o.status()).isEqualTo(1);
        assertThat(o.stderr().lines()).singleElement().asString()
                .startsWith("tessera: ").contains(file.toString()).contains(problem);
    }

    @Test
    void verifyFixturesWithATruncatedModel() throws IOException {
        Path model = TestSupport.copyDir(LLAMA_TINY, dir.resolve("models/llama-tiny"));
        Files.write(model.resolve("model.safetensors"), new byte[] {1, 2, 3});
        Files.copy(FIXTURES.resolve("cases.json"), dir.resolve("cases.json"));
        Files.copy(FIXTURES.resolve("expected_logits.safetensors"), dir.resolve("expected_logits.safetensors"));
        Outcome o = run("verify-fixtures", dir.toString(), "--device", "cpu");
        assertOneLineError(o, model.resolve("model.safetensors"), "truncated");
    }

    @Test
    void perplexityWithAPickledAdapter() throws IOException {
        Path adapter = TestSupport.copyDir(FIXTURES.resolve("adapters/llama-tiny/lora-qv"), dir.resolve("lora"));
        Files.write(adapter.resolve("adapter_model.bin"), new byte[] {(byte) 0x80, 2});
        Path windows = Files.writeString(dir.resolve("windows.json"), "[[1, 2, 3, 4]]");
        Outcome o = run("perplexity", "--model", LLAMA_TINY.toString(), "--windows", windows.toString(),
                "--adapter", adapter.toString(), "--device", "cpu");
        assertOneLineError(o, adapter.resolve("adapter_model.bin"), "pickle files are never loaded");
    }
}
