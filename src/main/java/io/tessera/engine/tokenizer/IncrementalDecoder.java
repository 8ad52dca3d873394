package io.tessera.engine.tokenizer;

import java.util.Arrays;

/**
 * Streaming detokenizer (vLLM style). {@link #next} returns the text the new token completes; while
 * the decoded tail ends with U+FFFD (a UTF-8 character split across tokens) it returns "" and holds
 * the bytes back. Concatenating every piece, {@link #flush} included, equals
 * {@code decode(generated ids)} for byte-level tokenizers. Special tokens are skipped, as in
 * {@link TextTokenizer#decode(int[])}. Not thread-safe: one per sequence.
 */
public final class IncrementalDecoder {

    /** Prompt tokens kept as decoding context, so decoders that look at the previous token see it. */
    private static final int PROMPT_CONTEXT = 5;

    private static final String REPLACEMENT = "\uFFFD";

    private final TextTokenizer tokenizer;
    private int[] ids;
    private int size;
    /** Start of the window decoded for context; its text up to readOffset was already emitted. */
    private int prefixOffset;
    /** End of the ids whose text has been emitted. */
    private int readOffset;

    IncrementalDecoder(TextTokenizer tokenizer, int[] promptIds) {
        this.tokenizer = tokenizer;
        this.ids = Arrays.copyOf(promptIds, promptIds.length + 16);
        this.size = promptIds.length;
        this.readOffset = promptIds.length;
        this.prefixOffset = Math.max(0, promptIds.length - PROMPT_CONTEXT);
    }

    /** Adds a generated token; returns the newly completed text, possibly "". */
    public String next(int tokenId) {
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, ids.length * 2);
        }
        ids[size++] = tokenId;
        String prefix = tokenizer.decode(ids, prefixOffset, readOffset, true);
        String full = tokenizer.decode(ids, prefixOffset, size, true);
        if (full.length() > prefix.length() && !full.endsWith(REPLACEMENT)) {
            return advance(prefix, full);
        }
        return "";
    }

    /** Emits whatever is held back (an incomplete character decodes to U+FFFD); call at end of stream. */
    public String flush() {
        String prefix = tokenizer.decode(ids, prefixOffset, readOffset, true);
        String full = tokenizer.decode(ids, prefixOffset, size, true);
        return full.length() > prefix.length() ? advance(prefix, full) : "";
    }

    private String advance(String prefix, String full) {
        prefixOffset = readOffset;
        readOffset = size;
        return full.substring(prefix.length());
    }
}
