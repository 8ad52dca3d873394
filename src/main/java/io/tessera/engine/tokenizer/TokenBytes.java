package io.tessera.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The bytes each token adds to decoded text, read from the vocabulary strings as the tokenizer.json decoder defines
 * them: byte-level BPE (GPT-2's byte-to-character table) or SentencePiece style ({@code ▁} for a space,
 * {@code <0xAB>} byte-fallback pieces). Special tokens, which decoding skips, have none.
 */
final class TokenBytes {

    private TokenBytes() {
    }

    static byte[][] of(JsonNode root, Map<String, Integer> vocab, int vocabSize) {
        boolean byteLevel = mentions(root.path("decoder"), "ByteLevel");
        boolean metaspace = mentions(root.path("decoder"), "Metaspace") || mentions(root.path("decoder"), "ByteFallback")
                || mentions(root.path("decoder"), "Replace");
        if (!byteLevel && !metaspace) {
            throw new TokenizerException("structured output needs a byte-level BPE or SentencePiece tokenizer; this "
                    + "one's decoder is " + root.path("decoder").path("type").asText("missing"));
        }
        Set<String> special = new HashSet<>();
        for (JsonNode added : root.path("added_tokens")) {
            if (added.path("special").asBoolean(false)) {
                special.add(added.path("content").asText());
            }
        }
        int[] byteOf = byteLevel ? byteDecoder() : null;
        byte[][] bytes = new byte[vocabSize][];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            String token = e.getKey();
            if (special.contains(token) || e.getValue() < 0 || e.getValue() >= vocabSize) {
                continue;
            }
            bytes[e.getValue()] = byteLevel ? byteLevel(token, byteOf) : sentencePiece(token);
        }
        return bytes;
    }

    private static boolean mentions(JsonNode decoder, String type) {
        if (type.equals(decoder.path("type").asText())) {
            return true;
        }
        for (JsonNode d : decoder.path("decoders")) {
            if (mentions(d, type)) {
                return true;
            }
        }
        return false;
    }

    /** GPT-2's table: printable bytes stand for themselves, the others for code points from 256 up. */
    private static int[] byteDecoder() {
        int[] byteOf = new int[512];
        java.util.Arrays.fill(byteOf, -1);
        int next = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            byteOf[printable ? b : 256 + next++] = b;
        }
        return byteOf;
    }

    private static byte[] byteLevel(String token, int[] byteOf) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c >= byteOf.length || byteOf[c] < 0) {
                // an added token that is not byte-level encoded: its text as it is
                return token.getBytes(StandardCharsets.UTF_8);
            }
            out[i] = (byte) byteOf[c];
        }
        return out;
    }

    private static byte[] sentencePiece(String token) {
        if (token.length() == 6 && token.startsWith("<0x") && token.endsWith(">")) {
            return new byte[] {(byte) Integer.parseInt(token.substring(3, 5), 16)};
        }
        return token.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
    }
}
