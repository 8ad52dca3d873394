package io.tessera.engine.adapter;

/** PEFT prompt tuning: {@code virtualTokens} embeddings prepended to every prompt. */
public record PromptTuningAdapter(int virtualTokens, int hidden, float[] embeddings) implements Adapter {
    @Override
    public String peftType() {
        return "PROMPT_TUNING";
    }

    @Override
    public long bytes() {
        return 4L * embeddings.length;
    }
}
