package io.tessera.engine.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The model's tokenizer: a DJL {@link HuggingFaceTokenizer} built from {@code <modelDir>/tokenizer.json}
 * with truncation and padding off. Special tokens are added as the tokenizer.json post-processor
 * defines (the byte-level BPE models here add none, e.g. no BOS).
 */
public final class TextTokenizer implements AutoCloseable {

    private final HuggingFaceTokenizer tokenizer;
    private final Path file;
    private final Map<String, Integer> vocab;
    private final int vocabSize;
    private byte[][] tokenBytes;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, Path file, Map<String, Integer> vocab) {
        this.tokenizer = tokenizer;
        this.file = file;
        this.vocab = vocab;
        this.vocabSize = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
    }

    /** Loads {@code <modelDir>/tokenizer.json}; fails with a {@link TokenizerException} naming the file. */
    public static TextTokenizer load(Path modelDir) {
        Path file = modelDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException(file + ": tokenizer file not found");
        }
        Map<String, Integer> vocab = readVocab(file);
        try {
            HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    // DJL's defaults truncate to 512 tokens and pad; prompts must pass through whole.
                    .optTruncation(false)
                    .optPadding(false)
                    .optAddSpecialTokens(true)
                    .build();
            return new TextTokenizer(tokenizer, file, vocab);
        } catch (IOException | RuntimeException e) {
            // the native library reports bad JSON or unknown models as plain RuntimeExceptions
            throw new TokenizerException(file + ": cannot load tokenizer: " + e.getMessage(), e);
        }
    }

    /** Token string to id over the model vocabulary and the added tokens, which DJL does not expose. */
    private static Map<String, Integer> readVocab(Path file) {
        JsonNode root = JsonFiles.read(file);
        Map<String, Integer> vocab = new HashMap<>();
        JsonNode modelVocab = root.path("model").path("vocab");
        if (modelVocab.isObject()) { // BPE, WordPiece, WordLevel: {"token": id}
            modelVocab.properties().forEach(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        } else if (modelVocab.isArray()) { // Unigram: [[token, score], ...], id = position
            for (int id = 0; id < modelVocab.size(); id++) {
                vocab.put(modelVocab.get(id).path(0).asText(), id);
            }
        }
        for (JsonNode added : root.path("added_tokens")) {
            vocab.put(added.path("content").asText(), added.path("id").asInt());
        }
        if (vocab.isEmpty()) {
            throw new TokenizerException(file + ": no vocabulary (model.vocab and added_tokens are empty)");
        }
        return vocab;
    }

    /** Encodes with the special tokens the model's post-processor adds (HF's default for prompts). */
    public int[] encode(String text) {
        return encode(text, true);
    }

    /**
     * Encodes text; pass {@code addSpecialTokens=false} for a rendered chat template, which already
     * carries its own BOS/markers.
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        long[] ids = tokenizer.encode(text, addSpecialTokens, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /** Decodes skipping special tokens (e.g. a generated {@code <|endoftext|>}), as generated text is shown. */
    public String decode(int[] ids) {
        return decode(ids, true);
    }

    public String decode(int[] ids, boolean skipSpecial) {
        return decode(ids, 0, ids.length, skipSpecial);
    }

    String decode(int[] ids, int from, int to, boolean skipSpecial) {
        long[] longs = new long[to - from];
        for (int i = from; i < to; i++) {
            longs[i - from] = ids[i];
        }
        return tokenizer.decode(longs, skipSpecial);
    }

    /** Size of the tokenizer's id space (highest id + 1); the model's embedding may be larger. */
    public int vocabSize() {
        return vocabSize;
    }

    /** Id of a token as spelled in the vocabulary, e.g. {@code "<|im_end|>"}. */
    public OptionalInt tokenId(String token) {
        Integer id = vocab.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /**
     * The bytes each id adds to decoded text (null for special tokens), for constrained decoding; read from
     * tokenizer.json on first use. Fails with a {@link TokenizerException} for tokenizers that are neither byte-level
     * BPE nor SentencePiece style.
     */
    public synchronized byte[][] tokenBytes() {
        if (tokenBytes == null) {
            tokenBytes = TokenBytes.of(JsonFiles.read(file), vocab, vocabSize);
        }
        return tokenBytes.clone();
    }

    /** A streaming detokenizer for tokens generated after {@code promptIds}. */
    public IncrementalDecoder incrementalDecoder(int[] promptIds) {
        return new IncrementalDecoder(this, promptIds);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
