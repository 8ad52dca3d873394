package io.tessera.cli;

import io.tessera.engine.ModelConfig;
import io.tessera.engine.adapter.AdapterConfig;
import io.tessera.engine.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Adapter directories with random weights for any base model, as PEFT saves them (LoRA of all projections: Bench). */
public final class RandomAdapters {
    private RandomAdapters() {
    }

    /** A LoRA (or with dora a DoRA) of rank r on q_proj and v_proj: the kinds a MoGE model takes besides its experts. */
    public static Path attentionLora(Path dir, ModelConfig c, int r, boolean dora, Random rnd) {
        try {
            return FleetBench.randomLora(dir, c, r, dora, false, 0.1f, rnd);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Prompt tuning with n virtual tokens. */
    public static Path prompt(Path dir, ModelConfig c, int n, Random rnd) {
        SafetensorsWriter w = new SafetensorsWriter().add("prompt_embeddings", Bench.gaussian(rnd, n * c.hiddenSize(), 1), n, c.hiddenSize());
        return write(dir, """
                {"peft_type":"PROMPT_TUNING","num_virtual_tokens":%d,"token_dim":%d,"num_transformer_submodules":1}
                """.formatted(n, c.hiddenSize()), w);
    }

    /** DePT with n virtual tokens and a rank-r update of the first maxLength prompt embeddings. */
    public static Path dept(Path dir, ModelConfig c, int n, int maxLength, int r, Random rnd) {
        int h = c.hiddenSize();
        SafetensorsWriter w = new SafetensorsWriter()
                .add("prompt_embeddings", Bench.gaussian(rnd, n * h, 1), n, h)
                .add("prompt_encoder.lora_embedding_A", Bench.gaussian(rnd, maxLength * r, 1), maxLength, r)
                .add("prompt_encoder.lora_embedding_B", Bench.gaussian(rnd, r * h, 0.5f), r, h);
        return write(dir, """
                {"peft_type":"PROMPT_TUNING_LORA","task_type":"CAUSAL_LM","num_virtual_tokens":%d,"token_dim":%d,
                 "num_transformer_submodules":1,"r":%d,"lora_alpha":%d,"max_length":%d,"save_lora_embeddings":true}
                """.formatted(n, h, r, 2 * r, maxLength), w);
    }

    private static Path write(Path dir, String config, SafetensorsWriter weights) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(AdapterConfig.FILE), config);
            weights.write(dir.resolve("adapter_model.safetensors"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
