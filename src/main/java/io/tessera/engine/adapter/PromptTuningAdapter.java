package io.tessera.engine.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.engine.AdapterStore;
import io.tessera.engine.safetensors.TensorInfo;
import java.util.Set;

/** PEFT prompt tuning: {@code virtualTokens} embeddings prepended to every prompt. Installed in {@link PromptStore}. */
public record PromptTuningAdapter(int virtualTokens, int hidden, float[] embeddings) implements Adapter {
    /** Most virtual tokens accepted: they take context from every request. */
    static final int MAX_VIRTUAL_TOKENS = 512;

    @Override
    public AdapterStore.Type storeType() {
        return PromptStore.TYPE;
    }

    @Override
    public Description describe() {
        return new Description(Adapter.Kind.PROMPT_TUNING, null, virtualTokens, null, null, "prompt");
    }

    @Override
    public long bytes() {
        return 4L * embeddings.length;
    }

    static PromptTuningAdapter parse(AdapterSource source) {
        float[] embeddings = embeddings(source, Set.of());
        int hidden = source.model().config().hiddenSize();
        return new PromptTuningAdapter(embeddings.length / hidden, hidden, embeddings);
    }

    /**
     * The soft prompt every prompt kind has, checked: prompt_embeddings [num_virtual_tokens, hidden], and no tensor
     * but it and {@code others} (which the kind reads itself).
     */
    static float[] embeddings(AdapterSource source, Set<String> others) {
        JsonNode cfg = source.json();
        if (cfg.path("num_transformer_submodules").asLong(1) != 1) {
            throw source.badConfig("num_transformer_submodules must be 1 for a decoder");
        }
        for (String name : source.checkpoint().names()) {
            if (!name.equals("prompt_embeddings") && !others.contains(name)) {
                throw source.badWeights("unexpected tensor " + name + " in a " + source.config().peftType() + " adapter");
            }
        }
        if (!source.checkpoint().has("prompt_embeddings")) {
            throw source.badWeights("missing tensor prompt_embeddings");
        }
        TensorInfo t = source.checkpoint().info("prompt_embeddings");
        // the rank first: a scalar has no first dimension to read
        if (t.shape().length != 2 || t.shape()[0] < 1 || t.shape()[0] > MAX_VIRTUAL_TOKENS) {
            throw source.badWeights("prompt_embeddings has shape " + t.shapeString()
                    + "; it must be [num_virtual_tokens (1.." + MAX_VIRTUAL_TOKENS + "), hidden]");
        }
        int n = (int) t.shape()[0];
        JsonNode nvt = cfg.get("num_virtual_tokens");
        if (nvt != null && !(nvt.isIntegralNumber() && nvt.canConvertToInt() && nvt.intValue() == n)) {
            throw source.badConfig("num_virtual_tokens " + nvt + " disagrees with prompt_embeddings " + t.shapeString());
        }
        return source.tensor("prompt_embeddings", n, source.model().config().hiddenSize());
    }
}
