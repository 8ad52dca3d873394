package io.tessera.engine.structured;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.tessera.engine.tokenizer.TextTokenizer;
import java.util.Arrays;

/**
 * A tokenizer's vocabulary as a prefix trie of token bytes, so a parse position is walked over every token at once:
 * a subtree is skipped as soon as its first byte cannot come. Also holds the compiled {@link Grammar}s of this
 * vocabulary, one per schema, bounded.
 */
public final class TokenVocabulary {

    private static final Cache<TextTokenizer, TokenVocabulary> OF_TOKENIZER = Caffeine.newBuilder().weakKeys().build();
    private static final int MAX_GRAMMARS = 256;

    /** One trie node: the tokens whose bytes end here, and the children by next byte. */
    static final class Node {
        byte[] labels = new byte[0];
        Node[] kids = new Node[0];
        int[] tokens = new int[0];

        private Node child(byte b) {
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] == b) {
                    return kids[i];
                }
            }
            Node kid = new Node();
            labels = Arrays.copyOf(labels, labels.length + 1);
            labels[labels.length - 1] = b;
            kids = Arrays.copyOf(kids, kids.length + 1);
            kids[kids.length - 1] = kid;
            return kid;
        }
    }

    final Node root = new Node();
    final byte[][] bytes;
    private final Cache<Schema, Grammar> grammars = Caffeine.newBuilder().weakKeys().maximumSize(MAX_GRAMMARS).build();

    /** @param bytes each id's bytes; null or empty for tokens never allowed (special ones) */
    TokenVocabulary(byte[][] bytes) {
        this.bytes = bytes;
        for (int id = 0; id < bytes.length; id++) {
            byte[] b = bytes[id];
            if (b == null || b.length == 0) {
                continue;
            }
            Node n = root;
            for (byte x : b) {
                n = n.child(x);
            }
            n.tokens = Arrays.copyOf(n.tokens, n.tokens.length + 1);
            n.tokens[n.tokens.length - 1] = id;
        }
    }

    /**
     * The vocabulary of {@code tokenizer}, built once per tokenizer. Building it also runs a small schema through the
     * compiler and the automaton, so the first request's compile does not pay the JVM's class loading and warm-up.
     */
    public static TokenVocabulary of(TextTokenizer tokenizer) {
        return OF_TOKENIZER.get(tokenizer, t -> {
            TokenVocabulary v = new TokenVocabulary(t.tokenBytes());
            new Constraint(v.grammar(SchemaCompiler.cached(WARM_UP))).complete();
            return v;
        });
    }

    private static final com.fasterxml.jackson.databind.JsonNode WARM_UP = warmUp();

    private static com.fasterxml.jackson.databind.JsonNode warmUp() {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree("""
                    {"type":"object","properties":{"s":{"type":"string","maxLength":4,"pattern":"^[a-z]+$"},
                     "n":{"type":"integer","minimum":0,"maximum":9},"e":{"enum":["x","y"]},
                     "a":{"type":"array","items":{"anyOf":[{"type":"boolean"},{"type":"null"}]}}},
                     "required":["s"],"additionalProperties":false}""");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The grammar of {@code schema} over this vocabulary: compiled once per (schema, tokenizer) while cached. */
    public Grammar grammar(Schema schema) {
        return grammars.get(schema, s -> new Grammar(s, this));
    }

    int size() {
        return bytes.length;
    }
}
