package io.tessera.engine.structured;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * A compiled JSON Schema: the values constrained decoding may produce. Nodes are immutable and compare by identity,
 * so parser frames that point at them hash cheaply. {@link SchemaCompiler} builds them from JSON Schema;
 * {@link #jsonObject()} is the {@code json_object} response format.
 */
public sealed interface Schema permits Schema.Any, Schema.Obj, Schema.Arr, Schema.Str, Schema.Num, Schema.Lit,
        Schema.AnyOf, Schema.TextOr {

    /** Containers of unconstrained values nest at most this deep; deeper, only scalars. */
    int MAX_DEPTH = 16;

    /** Any one JSON object. */
    static Schema jsonObject() {
        return Any.OBJECTS[0];
    }

    /**
     * A tool call: {@code {"name": <one of the names>, "arguments": <that tool's parameters>}}.
     *
     * @param parameters each tool's name and its compiled parameters schema, in the request's order
     */
    static Schema toolCall(java.util.Map<String, Schema> parameters) {
        List<Schema> calls = new java.util.ArrayList<>();
        parameters.forEach((name, params) -> calls.add(new Obj(List.of("name", "arguments"),
                List.of(new Lit(List.of(quote(name))), params), List.of(true, true))));
        return calls.size() == 1 ? calls.get(0) : new AnyOf(calls);
    }

    /**
     * Free text, or {@code call} when the output opens with {@code '{'} (after optional whitespace): how a model may
     * answer or call a tool under {@code tool_choice: "auto"}.
     */
    static Schema textOr(Schema call) {
        return new TextOr(call);
    }

    /** {@code s} as a JSON string, quotes included. */
    private static String quote(String s) {
        return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + "\"";
    }

    /** Any JSON value at nesting depth {@code depth}. */
    static Any any(int depth) {
        return Any.VALUES[Math.min(depth, MAX_DEPTH)];
    }

    /** Any JSON value; nested containers are again {@code Any} one level deeper. */
    final class Any implements Schema {
        private static final Any[] VALUES = new Any[MAX_DEPTH + 1];
        private static final Obj[] OBJECTS = new Obj[MAX_DEPTH + 1];
        private static final Arr[] ARRAYS = new Arr[MAX_DEPTH + 1];

        static {
            for (int d = 0; d <= MAX_DEPTH; d++) {
                VALUES[d] = new Any(d);
            }
            for (int d = 0; d <= MAX_DEPTH; d++) {
                OBJECTS[d] = Obj.open(d);
                ARRAYS[d] = new Arr(any(d + 1), 0, Integer.MAX_VALUE);
            }
        }

        final int depth;

        private Any(int depth) {
            this.depth = depth;
        }

        /** Whether objects and arrays may still open here. */
        boolean containers() {
            return depth < MAX_DEPTH;
        }

        Obj object() {
            return OBJECTS[depth];
        }

        Arr array() {
            return ARRAYS[depth];
        }
    }

    /**
     * An object. With properties, they come in the schema's order, each at most once, the required ones always (no
     * other keys); an open object (no properties) takes any string keys with unconstrained values.
     */
    final class Obj implements Schema {
        final String[] names;
        /** Each name as a JSON string, quotes included. */
        final byte[][] keys;
        final Schema[] values;
        /** nextRequired[i]: the first required property at index >= i, or the property count. */
        final int[] nextRequired;
        /** For an open object: the nesting depth, values are {@code any(depth + 1)}; -1 when closed. */
        final int openDepth;

        Obj(List<String> names, List<Schema> values, List<Boolean> required) {
            int n = names.size();
            this.names = names.toArray(String[]::new);
            this.keys = new byte[n][];
            for (int i = 0; i < n; i++) {
                keys[i] = quote(this.names[i]).getBytes(StandardCharsets.UTF_8);
            }
            this.values = values.toArray(Schema[]::new);
            this.nextRequired = new int[n + 1];
            nextRequired[n] = n;
            for (int i = n - 1; i >= 0; i--) {
                nextRequired[i] = required.get(i) ? i : nextRequired[i + 1];
            }
            this.openDepth = -1;
        }

        private Obj(int depth) {
            this.names = new String[0];
            this.keys = new byte[0][];
            this.values = new Schema[0];
            this.nextRequired = new int[] {0};
            this.openDepth = depth;
        }

        static Obj open(int depth) {
            return new Obj(depth);
        }

        boolean open() {
            return openDepth >= 0;
        }

        int size() {
            return names.length;
        }

        /** Whether the object may close when the next property would be at index {@code next}. */
        boolean mayClose(int next) {
            return open() || nextRequired[next] == names.length;
        }

        /** The last index a key may have when the next property would be at {@code next}: no required one skipped. */
        int lastCandidate(int next) {
            return Math.min(nextRequired[next], names.length - 1);
        }
    }

    /** An array of {@code items}, between {@code min} and {@code max} of them. */
    final class Arr implements Schema {
        final Schema items;
        final int min;
        final int max;

        Arr(Schema items, int min, int max) {
            this.items = items;
            this.min = min;
            this.max = max;
        }

        /** Counts beyond this make no difference to what may follow. */
        int countCap() {
            return max == Integer.MAX_VALUE ? min : max;
        }
    }

    /** A string of {@code min} to {@code max} characters (code points), matching {@code pattern} when set. */
    final class Str implements Schema {
        static final Str FREE = new Str(0, Integer.MAX_VALUE, null);

        final int min;
        final int max;
        final Regex pattern;

        Str(int min, int max, Regex pattern) {
            this.min = min;
            this.max = max;
            this.pattern = pattern;
        }

        int lengthCap() {
            return max == Integer.MAX_VALUE ? min : max;
        }
    }

    /**
     * A number, written without exponent, at most {@link #MAX_INT_DIGITS} integer and {@link #MAX_FRACTION_DIGITS}
     * fraction digits; an integer has no fraction. Bounds are inclusive, null when absent.
     */
    final class Num implements Schema {
        static final int MAX_INT_DIGITS = 15;
        static final int MAX_FRACTION_DIGITS = 6;
        static final Num FREE = new Num(false, null, null);

        final boolean integer;
        final BigDecimal min;
        final BigDecimal max;

        Num(boolean integer, BigDecimal min, BigDecimal max) {
            this.integer = integer;
            this.min = min;
            this.max = max;
        }

        boolean bounded() {
            return min != null || max != null;
        }
    }

    /** One of a fixed set of JSON texts (enum, const, booleans, null), compact, sorted bytewise. */
    final class Lit implements Schema {
        static final Lit BOOLEAN = new Lit(List.of("true", "false"));
        static final Lit NULL = new Lit(List.of("null"));
        static final Lit SCALARS = new Lit(List.of("true", "false", "null"));

        final byte[][] texts;

        Lit(List<String> texts) {
            this.texts = texts.stream().distinct().map(t -> t.getBytes(StandardCharsets.UTF_8))
                    .sorted(Arrays::compareUnsigned).toArray(byte[][]::new);
        }
    }

    /** Free text, or {@code call} once the first non-whitespace byte is {@code '{'}. */
    final class TextOr implements Schema {
        final Schema call;

        TextOr(Schema call) {
            this.call = call;
        }
    }

    /** A value valid against at least one option. */
    final class AnyOf implements Schema {
        final Schema[] options;

        AnyOf(List<Schema> options) {
            this.options = options.toArray(Schema[]::new);
        }
    }
}
