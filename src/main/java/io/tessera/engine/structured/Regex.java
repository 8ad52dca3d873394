package io.tessera.engine.structured;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The regular-expression subset that {@code pattern} may use, matched in linear time: a Thompson NFA over code points
 * whose DFA states are built on demand and shared. Supported: literals, escapes ({@code \d \w \s \D \W \S}, escaped
 * punctuation, {@code \n \t \r \f \v}), {@code .}, classes with ranges and negation, groups {@code (...)} and
 * {@code (?:...)}, {@code |}, {@code * + ?} (a lazy {@code ?} suffix is accepted: it does not change what matches),
 * {@code {n} {n,} {n,m}} up to {@value #MAX_REPEAT}, {@code ^} first and {@code $} last. Anything else (lookaround,
 * backreferences, word boundaries, Unicode properties) is a {@link SchemaException}. As in JSON Schema, a pattern
 * without {@code ^}/{@code $} matches anywhere in the string.
 */
final class Regex {

    static final int MAX_PATTERN = 1000;
    static final int MAX_REPEAT = 100;
    private static final int MAX_STATES = 10_000;
    private static final int MAX_CODE_POINT = 0x10FFFF;

    private static final int CHAR = 0;
    private static final int SPLIT = 1;
    private static final int MATCH = 2;

    // the NFA: state i has kind[i]; a CHAR state matches ranges[i] and goes to out[i]; a SPLIT goes to out and out2
    private final List<Integer> kind = new ArrayList<>();
    private final List<int[]> ranges = new ArrayList<>();
    private final List<Integer> out = new ArrayList<>();
    private final List<Integer> out2 = new ArrayList<>();
    private final ConcurrentHashMap<State, State> states = new ConcurrentHashMap<>();
    private final int[] toMatch;
    private final State start;

    private Regex(Node ast, boolean anchoredStart, boolean anchoredEnd) {
        int match = add(MATCH, null, -1, -1);
        int end = anchoredEnd ? match : star(ANY, match);
        int body = build(ast, end);
        int first = anchoredStart ? body : star(ANY, body);
        this.toMatch = distances();
        this.start = intern(closure(new int[] {first}));
    }

    /** Per NFA state, the fewest characters that reach the match state (Bellman-Ford; the NFA is small). */
    private int[] distances() {
        int n = kind.size();
        int[] d = new int[n];
        java.util.Arrays.fill(d, Integer.MAX_VALUE);
        for (boolean changed = true; changed; ) {
            changed = false;
            for (int s = 0; s < n; s++) {
                int best = switch (kind.get(s)) {
                    case MATCH -> 0;
                    case CHAR -> d[out.get(s)] == Integer.MAX_VALUE ? Integer.MAX_VALUE : d[out.get(s)] + 1;
                    default -> Math.min(d[out.get(s)], d[out2.get(s)]);
                };
                if (best < d[s]) {
                    d[s] = best;
                    changed = true;
                }
            }
        }
        return d;
    }

    static Regex compile(String pattern) {
        if (pattern.length() > MAX_PATTERN) {
            throw error("is longer than " + MAX_PATTERN + " characters");
        }
        Parser p = new Parser(pattern);
        boolean anchoredStart = p.eat('^');
        boolean anchoredEnd = pattern.length() > p.pos && pattern.endsWith("$") && !escaped(pattern, pattern.length() - 1);
        if (anchoredEnd) {
            p.end--;
        }
        Node ast = p.alternation();
        if (p.pos != p.end) {
            throw error("has an unexpected '" + pattern.charAt(p.pos) + "' at " + p.pos);
        }
        if ((anchoredStart || anchoredEnd) && ast instanceof Alt) {
            throw error("anchors a top-level alternation; wrap the alternatives in a group");
        }
        return new Regex(ast, anchoredStart, anchoredEnd);
    }

    /** Whether the character at {@code i} follows an odd number of backslashes. */
    private static boolean escaped(String s, int i) {
        int n = 0;
        while (i - n - 1 >= 0 && s.charAt(i - n - 1) == '\\') {
            n++;
        }
        return n % 2 == 1;
    }

    State start() {
        return start;
    }

    private static SchemaException error(String what) {
        return new SchemaException("pattern", "pattern " + what);
    }

    // ---- DFA states ----

    /** A set of NFA states (character and match states only), interned so equal sets are one object. */
    final class State {
        private final int[] set;
        private final boolean accepting;
        private final int hash;
        /** Transitions on ASCII, filled on demand; racing writers store equal states. */
        private final State[] ascii = new State[128];

        private State(int[] set) {
            this.set = set;
            this.hash = Arrays.hashCode(set);
            boolean acc = false;
            for (int s : set) {
                acc |= kind.get(s) == MATCH;
            }
            this.accepting = acc;
        }

        boolean accepting() {
            return accepting;
        }

        /** The fewest characters that complete a match from here (so a maxLength can still be met). */
        int toAccept() {
            int best = Integer.MAX_VALUE;
            for (int s : set) {
                best = Math.min(best, toMatch[s]);
            }
            return best;
        }

        /** The state after {@code cp}, or null when no match can continue with it. */
        State next(int cp) {
            if (cp < 128) {
                State cached = ascii[cp];
                if (cached != null) {
                    return cached.set.length == 0 ? null : cached;
                }
            }
            int[] moved = new int[set.length];
            int n = 0;
            for (int s : set) {
                if (kind.get(s) == CHAR && contains(ranges.get(s), cp)) {
                    moved[n++] = out.get(s);
                }
            }
            State next = intern(closure(Arrays.copyOf(moved, n)));
            if (cp < 128) {
                ascii[cp] = next;
            }
            return next.set.length == 0 ? null : next;
        }

        /**
         * Whether some code point in [lo, hi] continues a match that then needs at most {@code budget} more characters
         * (checked while a UTF-8 character or an escape is incomplete).
         */
        boolean acceptsAnyIn(int lo, int hi, long budget) {
            for (int s : set) {
                if (kind.get(s) == CHAR && toMatch[s] - 1 <= budget && intersects(ranges.get(s), lo, hi)) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof State other && other.hash == hash && Arrays.equals(other.set, set);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private State intern(int[] set) {
        State s = new State(set);
        State old = states.putIfAbsent(s, s);
        return old == null ? s : old;
    }

    /** Follows SPLITs from {@code from}; the sorted character and match states reached. */
    private int[] closure(int[] from) {
        boolean[] seen = new boolean[kind.size()];
        int[] stack = new int[kind.size()];
        int top = 0;
        for (int s : from) {
            if (!seen[s]) {
                seen[s] = true;
                stack[top++] = s;
            }
        }
        int n = 0;
        int[] result = new int[kind.size()];
        while (top > 0) {
            int s = stack[--top];
            if (kind.get(s) == SPLIT) {
                for (int t : new int[] {out.get(s), out2.get(s)}) {
                    if (!seen[t]) {
                        seen[t] = true;
                        stack[top++] = t;
                    }
                }
            } else {
                result[n++] = s;
            }
        }
        int[] set = Arrays.copyOf(result, n);
        Arrays.sort(set);
        return set;
    }

    // ---- NFA construction: each node is built in front of its continuation state ----

    private int add(int k, int[] r, int o, int o2) {
        if (kind.size() >= MAX_STATES) {
            throw error("is too large (more than " + MAX_STATES + " automaton states)");
        }
        kind.add(k);
        ranges.add(r);
        out.add(o);
        out2.add(o2);
        return kind.size() - 1;
    }

    private int build(Node node, int next) {
        if (node instanceof Chars c) {
            return add(CHAR, c.ranges, next, -1);
        }
        if (node instanceof Seq s) {
            int at = next;
            for (int i = s.parts.size() - 1; i >= 0; i--) {
                at = build(s.parts.get(i), at);
            }
            return at;
        }
        if (node instanceof Alt a) {
            int at = build(a.options.get(a.options.size() - 1), next);
            for (int i = a.options.size() - 2; i >= 0; i--) {
                at = add(SPLIT, null, build(a.options.get(i), next), at);
            }
            return at;
        }
        Repeat r = (Repeat) node;
        int at = next;
        if (r.max == Integer.MAX_VALUE) {
            at = star(r.body, at);
        } else {
            for (int i = r.min; i < r.max; i++) {
                at = add(SPLIT, null, build(r.body, at), next);
            }
        }
        for (int i = 0; i < r.min; i++) {
            at = build(r.body, at);
        }
        return at;
    }

    private int star(Node body, int next) {
        int loop = add(SPLIT, null, -1, next);
        out.set(loop, build(body, loop));
        return loop;
    }

    // ---- syntax ----

    private sealed interface Node permits Chars, Seq, Alt, Repeat {
    }

    /** Sorted, disjoint, inclusive code point ranges as [lo0, hi0, lo1, hi1, ...]. */
    private record Chars(int[] ranges) implements Node {
    }

    private record Seq(List<Node> parts) implements Node {
    }

    private record Alt(List<Node> options) implements Node {
    }

    private record Repeat(Node body, int min, int max) implements Node {
    }

    private static final Chars ANY = new Chars(new int[] {0, MAX_CODE_POINT});
    private static final int[] DIGIT = {'0', '9'};
    private static final int[] WORD = {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'};
    private static final int[] SPACE = normalize(new int[] {'\t', '\r', ' ', ' ', 0xA0, 0xA0, 0x1680, 0x1680,
        0x2000, 0x200A, 0x2028, 0x2029, 0x202F, 0x202F, 0x205F, 0x205F, 0x3000, 0x3000, 0xFEFF, 0xFEFF});
    /** What {@code .} matches: everything but line terminators, as in ECMAScript. */
    private static final int[] DOT = complement(normalize(new int[] {'\n', '\n', '\r', '\r', 0x2028, 0x2029}));

    private static final class Parser {
        final String s;
        int pos;
        int end;

        Parser(String s) {
            this.s = s;
            this.end = s.length();
        }

        boolean eat(char c) {
            if (pos < end && s.charAt(pos) == c) {
                pos++;
                return true;
            }
            return false;
        }

        Node alternation() {
            List<Node> options = new ArrayList<>();
            options.add(sequence());
            while (eat('|')) {
                options.add(sequence());
            }
            return options.size() == 1 ? options.get(0) : new Alt(options);
        }

        Node sequence() {
            List<Node> parts = new ArrayList<>();
            while (pos < end && s.charAt(pos) != '|' && s.charAt(pos) != ')') {
                parts.add(quantified(atom()));
            }
            return parts.size() == 1 ? parts.get(0) : new Seq(parts);
        }

        Node quantified(Node atom) {
            Node node = atom;
            while (pos < end) {
                char c = s.charAt(pos);
                int min;
                int max;
                if (c == '*' || c == '+' || c == '?') {
                    pos++;
                    min = c == '+' ? 1 : 0;
                    max = c == '?' ? 1 : Integer.MAX_VALUE;
                } else if (c == '{' && counted()) {
                    pos++;
                    min = number();
                    max = min;
                    if (eat(',')) {
                        max = pos < end && s.charAt(pos) == '}' ? Integer.MAX_VALUE : number();
                    }
                    expect('}');
                    if (max < min) {
                        throw error("has a repetition {" + min + "," + max + "} with max < min");
                    }
                } else {
                    return node;
                }
                if (node instanceof Repeat) {
                    throw error("repeats a repetition at " + pos + "; group it first");
                }
                eat('?'); // lazy: the same strings match
                if (pos < end && s.charAt(pos) == '+') {
                    throw error("uses a possessive quantifier at " + pos);
                }
                node = new Repeat(node, min, max);
            }
            return node;
        }

        /** Whether a '{' at pos starts a counted repetition (otherwise it is a literal, as in ECMAScript). */
        private boolean counted() {
            int i = pos + 1;
            int digits = 0;
            while (i < end && Character.isDigit(s.charAt(i))) {
                i++;
                digits++;
            }
            return digits > 0 && i < end && (s.charAt(i) == '}' || s.charAt(i) == ',');
        }

        private int number() {
            int start = pos;
            while (pos < end && Character.isDigit(s.charAt(pos))) {
                pos++;
            }
            if (pos == start) {
                throw error("expects a number at " + start);
            }
            if (pos - start > 3 || Integer.parseInt(s.substring(start, pos)) > MAX_REPEAT) {
                throw error("repeats more than " + MAX_REPEAT + " times");
            }
            return Integer.parseInt(s.substring(start, pos));
        }

        private void expect(char c) {
            if (!eat(c)) {
                throw error("expects '" + c + "' at " + pos);
            }
        }

        Node atom() {
            int c = s.codePointAt(pos);
            pos += Character.charCount(c);
            switch (c) {
                case '(' -> {
                    if (eat('?')) {
                        if (!eat(':')) {
                            throw error("uses an unsupported group (lookaround or named) at " + (pos - 2));
                        }
                    }
                    Node inner = alternation();
                    expect(')');
                    return new Seq(List.of(inner)); // a group, never mistaken for a top-level alternation
                }
                case '[' -> {
                    return new Chars(bracket());
                }
                case '.' -> {
                    return new Chars(DOT);
                }
                case '\\' -> {
                    return new Chars(escape(false));
                }
                case '^', '$' -> throw error("uses '" + (char) c + "' other than at its start or end");
                case '*', '+', '?' -> throw error("has nothing to repeat at " + (pos - 1));
                case ')' -> throw error("has an unbalanced ')' at " + (pos - 1));
                default -> {
                    return new Chars(new int[] {c, c});
                }
            }
        }

        private int[] bracket() {
            boolean negated = eat('^');
            List<int[]> parts = new ArrayList<>();
            boolean first = true;
            while (pos < end && (first || s.charAt(pos) != ']')) {
                first = false;
                int[] lo = member();
                if (lo.length == 2 && lo[0] == lo[1] && pos + 1 < end && s.charAt(pos) == '-' && s.charAt(pos + 1) != ']') {
                    pos++;
                    int[] hi = member();
                    if (hi.length != 2 || hi[0] != hi[1] || hi[0] < lo[0]) {
                        throw error("has a bad class range at " + pos);
                    }
                    parts.add(new int[] {lo[0], hi[0]});
                } else {
                    parts.add(lo);
                }
            }
            expect(']');
            int[] all = normalize(parts.stream().flatMapToInt(Arrays::stream).toArray());
            return negated ? complement(all) : all;
        }

        private int[] member() {
            int c = s.codePointAt(pos);
            pos += Character.charCount(c);
            return c == '\\' ? escape(true) : new int[] {c, c};
        }

        private int[] escape(boolean inClass) {
            if (pos >= end) {
                throw error("ends with a backslash");
            }
            char c = s.charAt(pos++);
            return switch (c) {
                case 'd' -> DIGIT;
                case 'D' -> complement(DIGIT);
                case 'w' -> WORD;
                case 'W' -> complement(WORD);
                case 's' -> SPACE;
                case 'S' -> complement(SPACE);
                case 'n' -> single('\n');
                case 't' -> single('\t');
                case 'r' -> single('\r');
                case 'f' -> single('\f');
                case 'v' -> single(0x0B);
                case 'b' -> {
                    if (inClass) {
                        yield single('\b');
                    }
                    throw error("uses a word boundary (\\b)");
                }
                default -> {
                    if (Character.isLetterOrDigit(c)) {
                        throw error("uses an unsupported escape \\" + c);
                    }
                    yield single(c);
                }
            };
        }

        private static int[] single(int c) {
            return new int[] {c, c};
        }
    }

    // ---- range sets ----

    private static boolean contains(int[] r, int cp) {
        for (int i = 0; i < r.length; i += 2) {
            if (cp < r[i]) {
                return false;
            }
            if (cp <= r[i + 1]) {
                return true;
            }
        }
        return false;
    }

    private static boolean intersects(int[] r, int lo, int hi) {
        for (int i = 0; i < r.length; i += 2) {
            if (r[i] <= hi && lo <= r[i + 1]) {
                return true;
            }
        }
        return false;
    }

    /** Sorts and merges ranges. */
    private static int[] normalize(int[] r) {
        int n = r.length / 2;
        long[] packed = new long[n];
        for (int i = 0; i < n; i++) {
            packed[i] = ((long) r[2 * i] << 32) | r[2 * i + 1];
        }
        Arrays.sort(packed);
        int[] merged = new int[r.length];
        int m = 0;
        for (long p : packed) {
            int lo = (int) (p >>> 32);
            int hi = (int) p;
            if (m > 0 && lo <= merged[m - 1] + 1) {
                merged[m - 1] = Math.max(merged[m - 1], hi);
            } else {
                merged[m++] = lo;
                merged[m++] = hi;
            }
        }
        return Arrays.copyOf(merged, m);
    }

    private static int[] complement(int[] r) {
        int[] c = new int[r.length + 2];
        int n = 0;
        int next = 0;
        for (int i = 0; i < r.length; i += 2) {
            if (r[i] > next) {
                c[n++] = next;
                c[n++] = r[i] - 1;
            }
            next = r[i + 1] + 1;
        }
        if (next <= MAX_CODE_POINT) {
            c[n++] = next;
            c[n++] = MAX_CODE_POINT;
        }
        return Arrays.copyOf(c, n);
    }
}
