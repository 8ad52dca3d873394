package io.tessera.engine.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.engine.AdapterStore;
import io.tessera.engine.safetensors.TensorInfo;
import java.util.Arrays;
import java.util.Set;

/**
 * DePT (decomposed prompt tuning, peft_type PROMPT_TUNING_LORA): a soft prompt of {@code virtualTokens} embeddings
 * prepended like prompt tuning, and a low-rank update of the embeddings of the first {@code maxLength} prompt tokens:
 * prompt token p gets {@code lora_alpha / sqrt(r) · (A B)[p]} added; generated tokens get none. Installed in
 * {@link DeptStore}.
 *
 * @param prompt [virtualTokens, hidden]
 * @param update [maxLength, hidden], the scaled A B, computed once at load (off the engine thread)
 */
public record DeptAdapter(int virtualTokens, int maxLength, int rank, int hidden, float[] prompt, float[] update)
        implements Adapter {
    static final String A = "prompt_encoder.lora_embedding_A";
    static final String B = "prompt_encoder.lora_embedding_B";
    /** Most prompt positions the update covers: its table costs maxLength × hidden in the engine. */
    static final int MAX_LENGTH = 4096;

    @Override
    public AdapterStore.Type storeType() {
        return DeptStore.TYPE;
    }

    @Override
    public Description describe() {
        return new Description(Adapter.Kind.PROMPT_TUNING_LORA, rank, virtualTokens, maxLength, null, "prompt,embed_tokens");
    }

    @Override
    public long bytes() {
        return 4L * (prompt.length + update.length);
    }

    static DeptAdapter parse(AdapterSource source) {
        int hidden = source.model().config().hiddenSize();
        float[] prompt = PromptTuningAdapter.embeddings(source, Set.of(A, B));
        JsonNode cfg = source.json();
        JsonNode dim = cfg.get("token_dim");
        if (dim != null && !(dim.isIntegralNumber() && dim.canConvertToInt() && dim.intValue() == hidden)) {
            throw source.badConfig("token_dim " + AdapterLoader.brief(dim.toString()) + " is not the base model's hidden size " + hidden);
        }
        int positions = Math.min(MAX_LENGTH, source.model().config().maxPositionEmbeddings());
        int maxLength = positive(source, cfg, "max_length", positions);
        // PEFT: the update's rank is at most min(max_length, hidden); beyond that it is full rank already
        int rank = positive(source, cfg, "r", Math.min(maxLength, hidden));
        if (!cfg.has("lora_alpha")) {
            throw source.badConfig("lora_alpha is missing");
        }
        // the reference implementation's scaling: alpha / sqrt(r), not alpha / r
        double scaling = LoraConfig.alpha(source, "lora_alpha", cfg.get("lora_alpha")) / Math.sqrt(rank);
        if (!Float.isFinite((float) scaling) || (float) scaling == 0) {
            throw source.badConfig("the scaling lora_alpha / sqrt(r) = " + scaling + " is not a positive finite float32");
        }
        float[] a = source.tensor(A, maxLength, rank);
        float[] b = source.tensor(B, rank, hidden);
        return new DeptAdapter(prompt.length / hidden, maxLength, rank, hidden, prompt, update(a, b, scaling, maxLength, rank, hidden));
    }

    /** A config integer in 1..max: max_length and r size the tensors, so they are required. */
    private static int positive(AdapterSource source, JsonNode cfg, String field, int max) {
        JsonNode n = cfg.get(field);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 1 || n.intValue() > max) {
            throw source.badConfig(field + " must be an integer in 1.." + max + ", not "
                    + (n == null ? "missing" : AdapterLoader.brief(n.toString())));
        }
        return n.intValue();
    }

    /** scaling · A B with A [S, r], B [r, hidden], summed in double: [S, hidden]. */
    static float[] update(float[] a, float[] b, double scaling, int s, int r, int hidden) {
        float[] out = new float[s * hidden];
        double[] row = new double[hidden];
        for (int p = 0; p < s; p++) {
            Arrays.fill(row, 0);
            for (int k = 0; k < r; k++) {
                double apk = a[p * r + k];
                for (int h = 0; h < hidden; h++) {
                    row[h] += apk * b[k * hidden + h];
                }
            }
            for (int h = 0; h < hidden; h++) {
                out[p * hidden + h] = (float) (scaling * row[h]);
            }
        }
        return out;
    }
}
