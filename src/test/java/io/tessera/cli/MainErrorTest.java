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

/**
 * A broken model or adapter given to the CLI ends in one line on stderr and exit status 1, never a stack trace; bad
 * usage ends in a line naming the problem, the command's usage and exit status 2; --help prints the usage.
 */
class MainErrorTest {
    @TempDir
    Path dir;

    record Outcome(int status, String stdout, String stderr) {
    }

    /** Runs the CLI in this JVM, capturing what it prints. */
    static Outcome run(String... argv) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
        try (PrintStream capturedErr = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
             PrintStream capturedOut = new PrintStream(outBytes, true, StandardCharsets.UTF_8)) {
            System.setErr(capturedErr);
            System.setOut(capturedOut);
            int status = Main.run(argv);
            return new Outcome(status, outBytes.toString(StandardCharsets.UTF_8), errBytes.toString(StandardCharsets.UTF_8));
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

    @Test
    void benchServeWithNoServerSaysSo() throws IOException {
        int closed;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        Outcome o = run("bench", "serve", "--url", "http://127.0.0.1:" + closed, "--concurrency", "1", "--requests", "1");
        assertThat(o.status()).isEqualTo(1);
        assertThat(o.stderr().lines()).singleElement().asString()
                .isEqualTo("tessera: cannot connect to the server: is it running at --url?");
    }

    @Test
    void badUsageIsStatusTwoWithTheCommandsUsage() {
        Outcome none = run();
        assertThat(none.status()).isEqualTo(2);
        assertThat(none.stderr()).startsWith("tessera: a command is needed").contains("verify-fixtures", "bench");

        Outcome unknown = run("bench", "warp");
        assertThat(unknown.status()).isEqualTo(2);
        assertThat(unknown.stderr()).contains("warp").contains("Usage: tessera bench");

        Outcome noModel = run("bench", "decode", "--steps", "4");
        assertThat(noModel.status()).isEqualTo(2);
        assertThat(noModel.stderr()).startsWith("tessera: Error: Missing required argument").contains("--model=DIR | --config=FILE");

        Outcome both = run("bench", "decode", "--model", LLAMA_TINY.toString(), "--config", "c.json");
        assertThat(both.status()).isEqualTo(2);
        assertThat(both.stderr()).contains("mutually exclusive");

        Outcome notANumber = run("bench", "adapters", "--model", LLAMA_TINY.toString(), "--rank", "sixteen");
        assertThat(notANumber.status()).isEqualTo(2);
        assertThat(notANumber.stderr()).contains("--rank").contains("sixteen");

        Outcome noPrompt = run("generate", "--model", LLAMA_TINY.toString());
        assertThat(noPrompt.status()).isEqualTo(2);
        assertThat(noPrompt.stderr()).contains("PROMPT");
    }

    @Test
    void countsAreBoundedBeforeAnEngineOpens() {
        Outcome zero = run("bench", "decode", "--model", LLAMA_TINY.toString(), "--batch", "0");
        assertThat(zero.status()).isEqualTo(2);
        assertThat(zero.stderr().lines().findFirst()).hasValue("tessera: --batch must be between 1 and 4096 (got 0)");

        Outcome huge = run("bench", "soak", "--model", LLAMA_TINY.toString(), "--adapters", "1000000");
        assertThat(huge.status()).isEqualTo(2);
        assertThat(huge.stderr()).contains("--adapters must be between 1 and 1024");

        Outcome threads = run("verify-fixtures", FIXTURES.toString(), "--engine-threads", "0");
        assertThat(threads.status()).isEqualTo(2);
        assertThat(threads.stderr()).contains("--engine-threads must be between 1 and 1024");
    }

    @Test
    void helpPerCommand() {
        Outcome bench = run("bench", "decode", "--help");
        assertThat(bench.status()).isZero();
        assertThat(bench.stdout()).contains("Usage: tessera bench decode", "--batch=B", "--steps=N", "--device", "--engine-threads");
        Outcome generate = run("generate", "--help");
        assertThat(generate.status()).isZero();
        assertThat(generate.stdout()).contains("--seed=S", "--attention", "PROMPT");
    }

    @Test
    void aSeedAboveTwoToThe31IsALong() {
        Object command = Main.commandLine().parseArgs("generate", "--model", "m", "--seed", "9000000000", "p")
                .subcommand().commandSpec().userObject();
        assertThat(((Generate) command).seed).isEqualTo(9_000_000_000L);
    }
}
