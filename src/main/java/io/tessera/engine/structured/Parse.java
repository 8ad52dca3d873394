package io.tessera.engine.structured;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A byte-level JSON parser driven by a {@link Schema}: a pushdown automaton whose stack is a persistent list of
 * immutable frames, so a position is a value that can key a cache and be stepped without copying. Whitespace is one
 * optional byte where JSON allows it (as Outlines does): a model cannot spend its tokens on indentation. Nesting is
 * bounded by the schema, and by {@link Schema#MAX_DEPTH} for unconstrained values.
 */
final class Parse {

    private Parse() {
    }

    sealed interface Frame permits Value, InObj, Key, InArr, InStr, InNum, InLit, InText {
    }

    /** Free text: any byte, complete at every point. */
    record InText() implements Frame {
        static final InText TEXT = new InText();
    }

    /** Before a value; {@code ws}: its one whitespace byte is used. */
    record Value(Schema schema, boolean ws) implements Frame {
    }

    /** Inside an object; {@code next}: the index the next property may have (for an open object, unused). */
    record InObj(Schema.Obj obj, int next, int phase, boolean ws) implements Frame {
    }

    /** Inside a property name of a closed object: {@code matched} bytes of {@code obj.keys[rep]}, quote included. */
    record Key(Schema.Obj obj, int from, int rep, int matched) implements Frame {
    }

    /** Inside an array; {@code count} values so far, capped where more make no difference. */
    record InArr(Schema.Arr arr, int count, int phase, boolean ws) implements Frame {
    }

    /**
     * Inside a string: {@code length} characters so far (capped), {@code pending} UTF-8 continuation bytes still due
     * (the next in [lo, hi]) for the partial code point {@code cp}, or an escape begun; {@code re} the pattern's state.
     */
    record InStr(Schema.Str str, int length, int pending, int lo, int hi, int cp, boolean escape, Regex.State re)
            implements Frame {
    }

    /** Inside a number; {@code digits} in the current part; {@code text} so far when bounds must be checked. */
    record InNum(Schema.Num num, int phase, int digits, String text) implements Frame {
    }

    /** Inside a literal: {@code matched} bytes of {@code lit.texts[rep]}, the first text with that prefix. */
    record InLit(Schema.Lit lit, int rep, int matched) implements Frame {
    }

    // object phases
    static final int OPEN = 0;
    static final int AFTER_COMMA = 1;
    static final int IN_KEY = 2;
    static final int KEY_DONE = 3;
    static final int IN_VALUE = 4;
    static final int AFTER_VALUE = 5;
    // number phases
    static final int START = 0;
    static final int MINUS = 1;
    static final int ZERO = 2;
    static final int INT = 3;
    static final int DOT = 4;
    static final int FRACTION = 5;

    /** A parse position: frames top first; {@link #EMPTY} once the value is complete. Compared by content. */
    static final class Stack {
        static final Stack EMPTY = new Stack(null, null);

        final Frame top;
        final Stack below;
        private final int hash;

        private Stack(Frame top, Stack below) {
            this.top = top;
            this.below = below;
            this.hash = top == null ? 0 : 31 * below.hash + top.hashCode();
        }

        Stack push(Frame f) {
            return new Stack(f, this);
        }

        Stack with(Frame f) {
            return new Stack(f, below);
        }

        @Override
        public boolean equals(Object o) {
            return this == o || o instanceof Stack s && s.hash == hash && Objects.equals(top, s.top)
                    && Objects.equals(below, s.below);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    static Stack start(Schema root) {
        return Stack.EMPTY.push(new Value(root, false));
    }

    /** Whether the bytes so far are one whole value (a top-level number or literal may still go on). */
    static boolean complete(Stack st) {
        if (st.top == null) {
            return true;
        }
        if (st.below.top != null) {
            return false;
        }
        if (st.top instanceof InNum n) {
            return numberComplete(n);
        }
        return st.top instanceof InText || st.top instanceof InLit l && literalComplete(l);
    }

    /** Adds to {@code out} every position that {@code st} reaches with byte {@code b} (none when b cannot come). */
    static void step(Stack st, int b, List<Stack> out) {
        if (st.top == null) {
            return;
        }
        Frame f = st.top;
        if (f instanceof Value v) {
            if (!isWs(b) || v.schema instanceof Schema.TextOr) {
                begin(v.schema, st.below, b, out);
            } else if (!v.ws) {
                out.add(st.with(new Value(v.schema, true)));
            }
        } else if (f instanceof InObj o) {
            object(o, st, b, out);
        } else if (f instanceof Key k) {
            key(k, st, b, out);
        } else if (f instanceof InArr a) {
            array(a, st, b, out);
        } else if (f instanceof InStr s) {
            string(s, st, b, out);
        } else if (f instanceof InNum n) {
            number(n, st, b, out);
        } else if (f instanceof InLit l) {
            literal(l, st, b, out);
        } else if (f instanceof InText) {
            out.add(st);
        }
    }

    private static boolean isWs(int b) {
        return b == ' ' || b == '\n' || b == '\t' || b == '\r';
    }

    private static void begin(Schema schema, Stack below, int b, List<Stack> out) {
        if (schema instanceof Schema.Any a) {
            if (a.containers() && b == '{') {
                out.add(below.push(new InObj(a.object(), 0, OPEN, false)));
            } else if (a.containers() && b == '[') {
                out.add(below.push(new InArr(a.array(), 0, OPEN, false)));
            } else {
                begin(Schema.Str.FREE, below, b, out);
                begin(Schema.Num.FREE, below, b, out);
                begin(Schema.Lit.SCALARS, below, b, out);
            }
        } else if (schema instanceof Schema.Obj o) {
            if (b == '{') {
                out.add(below.push(new InObj(o, 0, OPEN, false)));
            }
        } else if (schema instanceof Schema.Arr a) {
            if (b == '[') {
                out.add(below.push(new InArr(a, 0, OPEN, false)));
            }
        } else if (schema instanceof Schema.Str s) {
            if (b == '"') {
                out.add(below.push(openString(s)));
            }
        } else if (schema instanceof Schema.Num n) {
            InNum f = new InNum(n, START, 0, n.bounded() ? "" : null);
            number(f, below.push(f), b, out);
        } else if (schema instanceof Schema.Lit l) {
            InLit f = new InLit(l, 0, 0);
            literal(f, below.push(f), b, out);
        } else if (schema instanceof Schema.TextOr t) {
            if (b == '{') {
                begin(t.call, below, b, out);
            } else if (isWs(b)) {
                out.add(below.push(new Value(t, false))); // still undecided
            } else {
                out.add(below.push(InText.TEXT));
            }
        } else if (schema instanceof Schema.AnyOf u) {
            for (Schema option : u.options) {
                begin(option, below, b, out);
            }
        }
    }

    private static InStr openString(Schema.Str s) {
        return new InStr(s, 0, 0, 0, 0, 0, false, s.pattern == null ? null : s.pattern.start());
    }

    /** The position after a value that ended on top of {@code below}. */
    private static Stack done(Stack below) {
        if (below.top == null) {
            return below;
        }
        if (below.top instanceof InObj o) {
            return below.with(new InObj(o.obj, o.next, o.phase == IN_KEY ? KEY_DONE : AFTER_VALUE, false));
        }
        if (below.top instanceof InArr a) {
            return below.with(new InArr(a.arr, Math.min(a.count + 1, a.arr.countCap()), AFTER_VALUE, false));
        }
        throw new IllegalStateException("a value cannot end inside " + below.top);
    }

    // ---- objects ----

    private static void object(InObj o, Stack st, int b, List<Stack> out) {
        Schema.Obj obj = o.obj;
        if (isWs(b)) {
            if (!o.ws && o.phase != IN_KEY && o.phase != IN_VALUE) {
                out.add(st.with(new InObj(obj, o.next, o.phase, true)));
            }
            return;
        }
        switch (o.phase) {
            case OPEN, AFTER_COMMA -> {
                if (b == '}' && o.phase == OPEN && obj.mayClose(o.next)) {
                    out.add(done(st.below));
                } else if (b == '"') {
                    Stack parent = st.with(new InObj(obj, o.next, IN_KEY, false));
                    if (obj.open()) {
                        out.add(parent.push(openString(Schema.Str.FREE)));
                    } else if (o.next < obj.size()) {
                        out.add(parent.push(new Key(obj, o.next, o.next, 1)));
                    }
                }
            }
            case KEY_DONE -> {
                if (b == ':') {
                    Schema value = obj.open() ? Schema.any(obj.openDepth + 1) : obj.values[o.next - 1];
                    out.add(st.with(new InObj(obj, o.next, IN_VALUE, false)).push(new Value(value, false)));
                }
            }
            case AFTER_VALUE -> {
                if (b == ',' && (obj.open() || o.next < obj.size())) {
                    out.add(st.with(new InObj(obj, o.next, AFTER_COMMA, false)));
                } else if (b == '}' && obj.mayClose(o.next)) {
                    out.add(done(st.below));
                }
            }
            default -> throw new IllegalStateException("object phase " + o.phase + " with nothing above it");
        }
    }

    private static void key(Key k, Stack st, int b, List<Stack> out) {
        Schema.Obj obj = k.obj;
        byte[] rep = obj.keys[k.rep];
        int last = obj.lastCandidate(k.from);
        for (int i = k.rep; i <= last; i++) {
            byte[] key = obj.keys[i];
            if (key.length > k.matched && key[k.matched] == (byte) b && Arrays.equals(key, 0, k.matched, rep, 0, k.matched)) {
                if (key.length == k.matched + 1) {
                    out.add(st.below.with(new InObj(obj, i + 1, KEY_DONE, false)));
                } else {
                    out.add(st.with(new Key(obj, k.from, i, k.matched + 1)));
                }
                return;
            }
        }
    }

    // ---- arrays ----

    private static void array(InArr a, Stack st, int b, List<Stack> out) {
        Schema.Arr arr = a.arr;
        switch (a.phase) {
            case OPEN -> {
                if (b == ']' && arr.min == 0) {
                    out.add(done(st.below));
                } else if (arr.max > 0) {
                    step(st.with(new InArr(arr, a.count, IN_VALUE, false)).push(new Value(arr.items, false)), b, out);
                }
            }
            case AFTER_VALUE -> {
                if (isWs(b)) {
                    if (!a.ws) {
                        out.add(st.with(new InArr(arr, a.count, AFTER_VALUE, true)));
                    }
                } else if (b == ',' && a.count < arr.max) {
                    out.add(st.with(new InArr(arr, a.count, IN_VALUE, false)).push(new Value(arr.items, false)));
                } else if (b == ']' && a.count >= arr.min) {
                    out.add(done(st.below));
                }
            }
            default -> throw new IllegalStateException("array phase " + a.phase + " with nothing above it");
        }
    }

    // ---- strings ----

    private static void string(InStr s, Stack st, int b, List<Stack> out) {
        if (s.pending > 0) {
            if (b >= s.lo && b <= s.hi) {
                continueChar(s, st, s.cp, s.pending, b, out);
            }
            return;
        }
        if (s.escape) {
            int c = unescape(b);
            if (c >= 0) {
                addChar(s, st, c, out);
            }
            return;
        }
        if (b == '"') {
            if (s.length >= s.str.min && (s.re == null || s.re.accepting())) {
                out.add(done(st.below));
            }
            return;
        }
        if (s.length >= s.str.max || b < 0x20) {
            return;
        }
        if (b == '\\') {
            if (s.re == null || escapable(s.re, budget(s))) {
                out.add(st.with(new InStr(s.str, s.length, 0, 0, 0, 0, true, s.re)));
            }
        } else if (b < 0x80) {
            addChar(s, st, b, out);
        } else if (b >= 0xC2 && b <= 0xDF) {
            leadByte(s, st, b & 0x1F, 1, 0x80, 0xBF, out);
        } else if (b >= 0xE0 && b <= 0xEF) {
            leadByte(s, st, b & 0x0F, 2, b == 0xE0 ? 0xA0 : 0x80, b == 0xED ? 0x9F : 0xBF, out);
        } else if (b >= 0xF0 && b <= 0xF4) {
            leadByte(s, st, b & 0x07, 3, b == 0xF0 ? 0x90 : 0x80, b == 0xF4 ? 0x8F : 0xBF, out);
        }
    }

    private static final String ESCAPES = "\"\\/\b\f\n\r\t";

    private static int unescape(int b) {
        return switch (b) {
            case '"', '\\', '/' -> b;
            case 'b' -> '\b';
            case 'f' -> '\f';
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            default -> -1;
        };
    }

    private static boolean escapable(Regex.State re, long budget) {
        for (int i = 0; i < ESCAPES.length(); i++) {
            char c = ESCAPES.charAt(i);
            if (re.acceptsAnyIn(c, c, budget)) {
                return true;
            }
        }
        return false;
    }

    /** A UTF-8 lead byte: {@code pending} continuation bytes follow, the first in [lo, hi]. */
    private static void leadByte(InStr s, Stack st, int bits, int pending, int lo, int hi, List<Stack> out) {
        if (s.re == null || reachable(s.re, budget(s), bits, pending, lo, hi)) {
            out.add(st.with(new InStr(s.str, s.length, pending, lo, hi, bits, false, s.re)));
        }
    }

    private static void continueChar(InStr s, Stack st, int bits, int pending, int b, List<Stack> out) {
        int cp = (bits << 6) | (b & 0x3F);
        if (pending == 1) {
            addChar(s, st, cp, out);
        } else if (s.re == null || reachable(s.re, budget(s), cp, pending - 1, 0x80, 0xBF)) {
            out.add(st.with(new InStr(s.str, s.length, pending - 1, 0x80, 0xBF, cp, false, s.re)));
        }
    }

    /** Whether some code point completing {@code bits} with {@code pending} bytes (the next in [lo, hi]) can match. */
    private static boolean reachable(Regex.State re, long budget, int bits, int pending, int lo, int hi) {
        int shift = 6 * (pending - 1);
        int min = ((bits << 6) | (lo & 0x3F)) << shift;
        int max = (((bits << 6) | (hi & 0x3F)) << shift) | ((1 << shift) - 1);
        return re.acceptsAnyIn(min, max, budget);
    }

    /** Characters the pattern may still need after the one being added, within maxLength. */
    private static long budget(InStr s) {
        return (long) s.str.max - s.length - 1;
    }

    private static void addChar(InStr s, Stack st, int c, List<Stack> out) {
        Regex.State re = s.re;
        if (re != null) {
            re = re.next(c);
            // the characters the pattern still needs must fit within maxLength
            if (re == null || re.toAccept() > budget(s)) {
                return;
            }
        }
        out.add(st.with(new InStr(s.str, Math.min(s.length + 1, s.str.lengthCap()), 0, 0, 0, 0, false, re)));
    }

    // ---- numbers ----

    private static void number(InNum n, Stack st, int b, List<Stack> out) {
        Schema.Num num = n.num;
        boolean digit = b >= '0' && b <= '9';
        int phase = -1;
        int digits = 0;
        switch (n.phase) {
            case START, MINUS -> {
                if (b == '-' && n.phase == START) {
                    phase = MINUS;
                } else if (b == '0') {
                    phase = ZERO;
                    digits = 1;
                } else if (digit) {
                    phase = INT;
                    digits = 1;
                }
            }
            case ZERO, INT -> {
                if (digit && n.phase == INT && n.digits < Schema.Num.MAX_INT_DIGITS) {
                    phase = INT;
                    digits = n.digits + 1;
                } else if (b == '.' && !num.integer) {
                    phase = DOT;
                }
            }
            case DOT, FRACTION -> {
                if (digit && n.digits < Schema.Num.MAX_FRACTION_DIGITS) {
                    phase = FRACTION;
                    digits = n.digits + 1;
                }
            }
            default -> throw new IllegalStateException("number phase " + n.phase);
        }
        if (phase >= 0) {
            String text = n.text == null ? null : n.text + (char) b;
            if (text == null || feasible(num, text)) {
                out.add(st.with(new InNum(num, phase, digits, text)));
            }
        } else if (numberComplete(n)) {
            // numbers are not self-delimiting: the byte belongs to what follows
            step(done(st.below), b, out);
        }
    }

    private static boolean numberComplete(InNum n) {
        boolean whole = n.phase == ZERO || n.phase == INT || n.phase == FRACTION;
        return whole && (n.text == null || inRange(n.num, new BigDecimal(n.text)));
    }

    private static boolean inRange(Schema.Num num, BigDecimal v) {
        return (num.min == null || v.compareTo(num.min) >= 0) && (num.max == null || v.compareTo(num.max) <= 0);
    }

    /** Whether some number this prefix can still become lies within the bounds. */
    static boolean feasible(Schema.Num num, String text) {
        boolean negative = text.startsWith("-");
        String magnitude = negative ? text.substring(1) : text;
        BigDecimal ulp = num.integer ? BigDecimal.ONE : BigDecimal.ONE.movePointLeft(Schema.Num.MAX_FRACTION_DIGITS);
        int dot = magnitude.indexOf('.');
        if (magnitude.isEmpty()) {
            return overlaps(num, BigDecimal.ZERO, BigDecimal.ONE.movePointRight(Schema.Num.MAX_INT_DIGITS).subtract(ulp),
                    negative, ulp);
        }
        if (dot >= 0) {
            int fraction = magnitude.length() - dot - 1;
            BigDecimal lo = new BigDecimal(fraction == 0 ? magnitude + "0" : magnitude);
            return overlaps(num, lo, lo.add(BigDecimal.ONE.movePointLeft(fraction)).subtract(ulp), negative, ulp);
        }
        BigDecimal d = new BigDecimal(magnitude);
        if (magnitude.equals("0")) {
            return overlaps(num, d, BigDecimal.ONE.subtract(ulp), negative, ulp);
        }
        for (int k = magnitude.length(); k <= Schema.Num.MAX_INT_DIGITS; k++) {
            int shift = k - magnitude.length();
            BigDecimal lo = d.movePointRight(shift);
            BigDecimal hi = d.add(BigDecimal.ONE).movePointRight(shift).subtract(ulp);
            if (overlaps(num, lo, hi, negative, ulp)) {
                return true;
            }
        }
        return false;
    }

    /** Whether a multiple of {@code ulp} with magnitude in [lo, hi] (negated when negative) lies within the bounds. */
    private static boolean overlaps(Schema.Num num, BigDecimal lo, BigDecimal hi, boolean negative, BigDecimal ulp) {
        BigDecimal from = negative ? hi.negate() : lo;
        BigDecimal to = negative ? lo.negate() : hi;
        if (num.min != null && num.min.compareTo(from) > 0) {
            from = num.min.divide(ulp, 0, RoundingMode.CEILING).multiply(ulp);
        }
        if (num.max != null && num.max.compareTo(to) < 0) {
            to = num.max.divide(ulp, 0, RoundingMode.FLOOR).multiply(ulp);
        }
        return from.compareTo(to) <= 0;
    }

    // ---- literals ----

    private static void literal(InLit l, Stack st, int b, List<Stack> out) {
        byte[][] texts = l.lit.texts;
        byte[] rep = texts[l.rep];
        for (int i = l.rep; i < texts.length; i++) {
            byte[] t = texts[i];
            if (!Arrays.equals(t, 0, Math.min(l.matched, t.length), rep, 0, l.matched)) {
                break; // sorted: the texts sharing the prefix are contiguous
            }
            if (t.length > l.matched && t[l.matched] == (byte) b) {
                int m = l.matched + 1;
                boolean extended = i + 1 < texts.length && texts[i + 1].length > m
                        && Arrays.equals(texts[i + 1], 0, m, t, 0, m);
                out.add(m == t.length && !extended ? done(st.below) : st.with(new InLit(l.lit, i, m)));
                return;
            }
        }
        if (literalComplete(l)) {
            step(done(st.below), b, out);
        }
    }

    private static boolean literalComplete(InLit l) {
        return l.lit.texts[l.rep].length == l.matched;
    }

    /** Every position reachable from {@code from} with byte {@code b}, duplicates removed. */
    static List<Stack> stepAll(List<Stack> from, int b) {
        List<Stack> out = new ArrayList<>(from.size());
        for (Stack st : from) {
            step(st, b, out);
        }
        if (out.size() > 1) {
            return new ArrayList<>(new java.util.LinkedHashSet<>(out));
        }
        return out;
    }
}
