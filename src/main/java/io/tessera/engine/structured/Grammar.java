package io.tessera.engine.structured;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.Arrays;
import java.util.List;

/**
 * A schema over one tokenizer's vocabulary: per parse position, the set of tokens that keep the output valid. Sets
 * are computed by walking the position over the vocabulary trie and cached per position (bounded by bytes), so rows
 * and requests with the same schema share them. Thread-safe.
 */
public final class Grammar {

    /** Mask bytes kept per grammar. */
    private static final long MAX_MASK_BYTES = 16L << 20;

    /**
     * The tokens allowed at one position.
     *
     * @param allowed  a bit per token id
     * @param complete whether the output so far is a whole value (end tokens allowed)
     * @param any      whether any token may follow
     */
    record Mask(long[] allowed, boolean complete, boolean any) {
        boolean allows(int id) {
            return (id >>> 6) < allowed.length && (allowed[id >>> 6] & (1L << id)) != 0;
        }
    }

    /** A set of parse positions (several while anyOf options are undecided), compared as a set. */
    static final class Position {
        final Parse.Stack[] stacks;
        private final int hash;

        Position(List<Parse.Stack> stacks) {
            this.stacks = stacks.toArray(Parse.Stack[]::new);
            int h = 0;
            for (Parse.Stack s : this.stacks) {
                h += s.hashCode();
            }
            this.hash = h;
        }

        boolean complete() {
            for (Parse.Stack s : stacks) {
                if (Parse.complete(s)) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Position p) || p.hash != hash || p.stacks.length != stacks.length) {
                return false;
            }
            return Arrays.asList(stacks).containsAll(Arrays.asList(p.stacks));
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private final TokenVocabulary vocab;
    private final Position start;
    private final Cache<Position, Mask> masks = Caffeine.newBuilder().maximumWeight(MAX_MASK_BYTES)
            .weigher((Position p, Mask m) -> 64 + 8 * m.allowed().length).build();

    Grammar(Schema schema, TokenVocabulary vocab) {
        this.vocab = vocab;
        this.start = new Position(List.of(Parse.start(schema)));
    }

    Position start() {
        return start;
    }

    Mask mask(Position p) {
        return masks.get(p, this::compute);
    }

    /** The position after token {@code id}; fails when the token is not allowed there. */
    Position advance(Position p, int id) {
        byte[] b = id < vocab.size() ? vocab.bytes[id] : null;
        if (b == null || b.length == 0) {
            throw new IllegalStateException("token " + id + " has no text and cannot continue structured output");
        }
        List<Parse.Stack> at = Arrays.asList(p.stacks);
        for (byte x : b) {
            at = Parse.stepAll(at, x & 0xFF);
            if (at.isEmpty()) {
                throw new IllegalStateException("token " + id + " is not allowed here");
            }
        }
        return new Position(at);
    }

    private Mask compute(Position p) {
        long[] bits = new long[(vocab.size() + 63) >>> 6];
        boolean any = walk(vocab.root, Arrays.asList(p.stacks), bits);
        return new Mask(bits, p.complete(), any);
    }

    /** Marks every token below {@code node} that some position in {@code from} can take; whether there was one. */
    private static boolean walk(TokenVocabulary.Node node, List<Parse.Stack> from, long[] bits) {
        boolean any = false;
        for (int i = 0; i < node.labels.length; i++) {
            List<Parse.Stack> next = Parse.stepAll(from, node.labels[i] & 0xFF);
            if (next.isEmpty()) {
                continue;
            }
            TokenVocabulary.Node kid = node.kids[i];
            for (int t : kid.tokens) {
                bits[t >>> 6] |= 1L << t;
                any = true;
            }
            any |= walk(kid, next, bits);
        }
        return any;
    }
}
