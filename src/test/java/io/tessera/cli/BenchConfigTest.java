package io.tessera.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.cli.MainErrorTest.Outcome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `bench --config FILE`: a model's shape from its config.json alone, random weights in memory, no tokenizer. */
class BenchConfigTest {
    /** A Qwen2 shape (q/k/v biases, tied embeddings) small enough for a unit test. */
    private static final String TINY_QWEN2 = """
            {"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 512, "max_position_embeddings": 32768,
             "tie_word_embeddings": true, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0}
            """;

    @TempDir
    Path dir;

    @Test
    void decodeRunsOnAConfigFileAlone() throws IOException {
        Path config = Files.writeString(dir.resolve("tiny.json"), TINY_QWEN2);
        Outcome o = MainErrorTest.run("bench", "decode", "--config", config.toString(), "--batch", "2", "--steps", "4",
                "--device", "cpu");
        assertThat(o.stderr()).isEmpty();
        assertThat(o.status()).isZero();
        assertThat(o.stdout()).contains("model=tiny.json", "batch=2").containsPattern("decode +8 ")
                .containsPattern("peak rss \\d+ MiB");
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(config);   // nothing was written next to it
        }
    }

    @Test
    void adaptersRunOnAConfigFile() throws IOException {
        Path config = Files.writeString(dir.resolve("tiny.json"), TINY_QWEN2);
        Outcome o = MainErrorTest.run("bench", "adapters", "--config", config.toString(), "--batch", "4", "--adapters", "2",
                "--rank", "4", "--steps", "2", "--rounds", "1", "--device", "cpu");
        assertThat(o.status()).as(o.stderr()).isZero();
        assertThat(o.stdout()).contains("model=tiny.json").containsPattern("ratio adapters/base = [0-9.]+");
    }

    @Test
    void aConfigOutOfBoundsIsOneLineNamingTheField() throws IOException {
        Path config = Files.writeString(dir.resolve("huge.json"), TINY_QWEN2.replace("\"vocab_size\": 512", "\"vocab_size\": 4000000000"));
        Outcome o = MainErrorTest.run("bench", "decode", "--config", config.toString(), "--device", "cpu");
        assertThat(o.status()).isEqualTo(1);
        assertThat(o.stderr().lines()).singleElement().asString()
                .isEqualTo("tessera: " + config + ": vocab_size 4000000000 is over the limit of 1048576 for a random-weight model");
    }
}
