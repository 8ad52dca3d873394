package io.tessera.engine.structured;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compiles a JSON Schema into a {@link Schema}. Supported: {@code type} (a name or a list, {@code null} included),
 * {@code properties}, {@code required}, {@code additionalProperties} (false, or true when there are no
 * properties), {@code enum}, {@code const}, {@code items}, {@code minItems}/{@code maxItems},
 * {@code minimum}/{@code maximum}, {@code minLength}/{@code maxLength}, {@code pattern} ({@link Regex}'s subset),
 * {@code anyOf}, {@code $ref} to {@code #/$defs/...} or {@code #/definitions/...} (not recursive), and the
 * annotations that constrain nothing. Any other keyword is a {@link SchemaException} naming it: a guarantee is never
 * silently weakened. Objects with properties are generated with exactly those keys, in the schema's order.
 */
public final class SchemaCompiler {

    /** A schema nests at most this deep (references expanded). */
    static final int MAX_DEPTH = 32;
    /** Sizes beyond this are refused: they bound the work of compiling and the states of the automaton. */
    static final int MAX_NODES = 10_000;
    private static final long MAX_COUNT = 1_000_000;

    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "$comment", "examples", "default",
            "$schema", "$id", "deprecated", "readOnly", "writeOnly", "$defs", "definitions");
    private static final Set<String> TYPES = Set.of("object", "array", "string", "number", "integer", "boolean", "null");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JsonNode root;
    private final Set<String> expanding = new HashSet<>();
    private final Map<String, Schema> refs = new HashMap<>();
    private int nodes;

    private SchemaCompiler(JsonNode root) {
        this.root = root;
    }

    private static final int MAX_CACHED = 1024;
    private static final com.github.benmanes.caffeine.cache.Cache<String, Schema> COMPILED =
            com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(MAX_CACHED).build();

    /**
     * Compiles {@code schema}, or returns the schema compiled for the same text while it is cached; its grammars per
     * tokenizer are cached with it ({@link TokenVocabulary#grammar}).
     */
    public static Schema cached(JsonNode schema) {
        return COMPILED.get(canonical(schema), k -> compile(schema));
    }

    /** Compiles {@code schema}; a {@link SchemaException} names what is not supported. */
    public static Schema compile(JsonNode schema) {
        return new SchemaCompiler(schema).node(schema, 0);
    }

    private Schema node(JsonNode s, int depth) {
        if (++nodes > MAX_NODES) {
            throw new SchemaException(null, "schema is too large (more than " + MAX_NODES + " subschemas)");
        }
        if (depth > MAX_DEPTH) {
            throw new SchemaException(null, "schema nests deeper than " + MAX_DEPTH + " levels");
        }
        if (s.isBoolean()) {
            if (!s.booleanValue()) {
                throw new SchemaException(null, "schema false admits no value");
            }
            return Schema.any(0);
        }
        if (!s.isObject()) {
            throw new SchemaException(null, "a schema must be an object or a boolean, got " + s.getNodeType());
        }
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!ANNOTATIONS.contains(k) && !SUPPORTED.contains(k)) {
                throw new SchemaException(k, "JSON Schema keyword '" + k + "' is not supported for structured output"
                        + " (supported: " + String.join(", ", SUPPORTED_LIST) + ")");
            }
        }
        if (s.has("$ref")) {
            only(s, "$ref");
            return ref(s.get("$ref"), depth);
        }
        if (s.has("anyOf")) {
            only(s, "anyOf");
            JsonNode options = s.get("anyOf");
            if (!options.isArray() || options.isEmpty()) {
                throw new SchemaException("anyOf", "anyOf must be a non-empty array of schemas");
            }
            List<Schema> compiled = new ArrayList<>();
            for (JsonNode o : options) {
                compiled.add(node(o, depth + 1));
            }
            return compiled.size() == 1 ? compiled.get(0) : new Schema.AnyOf(compiled);
        }
        if (s.has("enum") || s.has("const")) {
            return literals(s);
        }
        Set<String> types = types(s);
        List<Schema> options = new ArrayList<>();
        for (String t : types) {
            options.add(switch (t) {
                case "object" -> object(s, depth);
                case "array" -> array(s, depth);
                case "string" -> string(s);
                case "number", "integer" -> number(s, t.equals("integer"));
                case "boolean" -> Schema.Lit.BOOLEAN;
                case "null" -> Schema.Lit.NULL;
                default -> throw new IllegalStateException(t);
            });
        }
        if (options.isEmpty()) {
            return Schema.any(0);
        }
        return options.size() == 1 ? options.get(0) : new Schema.AnyOf(options);
    }

    private static final List<String> SUPPORTED_LIST = List.of("type", "properties", "required",
            "additionalProperties", "enum", "const", "items", "minItems", "maxItems", "minimum", "maximum",
            "minLength", "maxLength", "pattern", "anyOf", "$ref");
    private static final Set<String> SUPPORTED = Set.copyOf(SUPPORTED_LIST);
    private static final Map<String, String> TYPE_OF = Map.of("properties", "object", "required", "object",
            "additionalProperties", "object", "items", "array", "minItems", "array", "maxItems", "array",
            "minLength", "string", "maxLength", "string", "pattern", "string");

    /** {@code keyword} may stand only beside annotations. */
    private static void only(JsonNode s, String keyword) {
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals(keyword) && !ANNOTATIONS.contains(k)) {
                throw new SchemaException(k, "'" + k + "' beside '" + keyword + "' is not supported; move it into the "
                        + (keyword.equals("$ref") ? "referenced schema" : "anyOf options"));
            }
        }
    }

    /** The declared types, or the one its keywords imply; none means any value. */
    private static Set<String> types(JsonNode s) {
        Set<String> types = new LinkedHashSet<>();
        JsonNode type = s.get("type");
        if (type != null) {
            for (JsonNode t : type.isArray() ? type : List.of(type)) {
                if (!t.isTextual() || !TYPES.contains(t.asText())) {
                    throw new SchemaException("type", "type must be one of " + TYPES + " or a list of them, got " + t);
                }
                types.add(t.asText());
            }
            if (types.contains("number")) {
                types.remove("integer");
            }
            return types;
        }
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            String implied = k.equals("minimum") || k.equals("maximum") ? "number" : TYPE_OF.get(k);
            if (implied != null) {
                types.add(implied);
            }
        }
        if (types.size() > 1) {
            throw new SchemaException("type", "keywords of several types " + types + " need an explicit type");
        }
        return types;
    }

    private Schema ref(JsonNode ref, int depth) {
        String path = ref.asText();
        String name;
        JsonNode target;
        if (path.startsWith("#/$defs/")) {
            name = path.substring("#/$defs/".length());
            target = root.path("$defs").get(name);
        } else if (path.startsWith("#/definitions/")) {
            name = path.substring("#/definitions/".length());
            target = root.path("definitions").get(name);
        } else if (path.equals("#")) {
            throw new SchemaException("$ref", "$ref \"#\" is recursive; recursive schemas are not supported");
        } else {
            throw new SchemaException("$ref", "$ref must point into #/$defs/ or #/definitions/, got " + path);
        }
        if (target == null) {
            throw new SchemaException("$ref", "$ref " + path + " names no definition");
        }
        Schema done = refs.get(path);
        if (done != null) {
            return done;
        }
        if (!expanding.add(path)) {
            throw new SchemaException("$ref", "$ref " + path + " is recursive; recursive schemas are not supported");
        }
        Schema compiled = node(target, depth + 1);
        expanding.remove(path);
        refs.put(path, compiled);
        return compiled;
    }

    private Schema literals(JsonNode s) {
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!ANNOTATIONS.contains(k) && !k.equals("enum") && !k.equals("const") && !k.equals("type")) {
                throw new SchemaException(k, "'" + k + "' beside enum or const is not supported");
            }
        }
        List<JsonNode> values = new ArrayList<>();
        if (s.has("const")) {
            values.add(s.get("const"));
        }
        if (s.has("enum")) {
            JsonNode e = s.get("enum");
            if (!e.isArray() || e.isEmpty()) {
                throw new SchemaException("enum", "enum must be a non-empty array");
            }
            e.forEach(values::add);
        }
        Set<String> types = s.has("type") ? types(s) : null;
        List<String> texts = new ArrayList<>();
        for (JsonNode v : values) {
            if (types == null || types.contains(typeOf(v)) || (typeOf(v).equals("integer") && types.contains("number"))) {
                texts.add(v.toString());
            }
        }
        if (texts.isEmpty()) {
            throw new SchemaException("enum", "no enum or const value has the schema's type");
        }
        return new Schema.Lit(texts);
    }

    private static String typeOf(JsonNode v) {
        return switch (v.getNodeType()) {
            case OBJECT -> "object";
            case ARRAY -> "array";
            case STRING -> "string";
            case BOOLEAN -> "boolean";
            case NULL -> "null";
            case NUMBER -> v.isIntegralNumber() || v.decimalValue().stripTrailingZeros().scale() <= 0 ? "integer" : "number";
            default -> "unknown";
        };
    }

    private Schema object(JsonNode s, int depth) {
        JsonNode props = s.path("properties");
        JsonNode additional = s.get("additionalProperties");
        if (additional != null && !additional.isBoolean()) {
            throw new SchemaException("additionalProperties", "additionalProperties must be false (or true without "
                    + "properties); a schema for additional properties is not supported");
        }
        Set<String> required = new HashSet<>();
        for (JsonNode r : s.path("required")) {
            if (!props.has(r.asText())) {
                throw new SchemaException("required", "required property '" + r.asText() + "' is not in properties");
            }
            required.add(r.asText());
        }
        if (props.isEmpty() && !s.has("properties")) {
            if (additional != null && !additional.booleanValue()) {
                return new Schema.Obj(List.of(), List.of(), List.of());
            }
            return Schema.jsonObject();
        }
        if (!props.isObject()) {
            throw new SchemaException("properties", "properties must be an object");
        }
        List<String> names = new ArrayList<>();
        List<Schema> values = new ArrayList<>();
        List<Boolean> req = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> p = it.next();
            names.add(p.getKey());
            values.add(node(p.getValue(), depth + 1));
            req.add(required.contains(p.getKey()));
        }
        return new Schema.Obj(names, values, req);
    }

    private Schema array(JsonNode s, int depth) {
        JsonNode items = s.get("items");
        if (items != null && items.isArray()) {
            throw new SchemaException("items", "items as an array (tuples) is not supported; use one schema");
        }
        int min = count(s, "minItems", 0);
        int max = count(s, "maxItems", Integer.MAX_VALUE);
        if (min > max) {
            throw new SchemaException("minItems", "minItems " + min + " is more than maxItems " + max);
        }
        return new Schema.Arr(items == null ? Schema.any(1) : node(items, depth + 1), min, max);
    }

    private static Schema string(JsonNode s) {
        int min = count(s, "minLength", 0);
        int max = count(s, "maxLength", Integer.MAX_VALUE);
        if (min > max) {
            throw new SchemaException("minLength", "minLength " + min + " is more than maxLength " + max);
        }
        JsonNode pattern = s.get("pattern");
        if (pattern != null && !pattern.isTextual()) {
            throw new SchemaException("pattern", "pattern must be a string");
        }
        Regex regex = pattern == null ? null : Regex.compile(pattern.asText());
        if (regex != null && regex.start().toAccept() > max) {
            throw new SchemaException("pattern", "pattern needs more than maxLength " + max + " characters");
        }
        return new Schema.Str(min, max, regex);
    }

    private static int count(JsonNode s, String keyword, int absent) {
        JsonNode v = s.get(keyword);
        if (v == null) {
            return absent;
        }
        if (!v.canConvertToLong() || !v.isIntegralNumber() || v.longValue() < 0 || v.longValue() > MAX_COUNT) {
            throw new SchemaException(keyword, keyword + " must be an integer in [0, " + MAX_COUNT + "], got " + v);
        }
        return (int) v.longValue();
    }

    private static Schema number(JsonNode s, boolean integer) {
        BigDecimal min = bound(s, "minimum");
        BigDecimal max = bound(s, "maximum");
        Schema.Num num = new Schema.Num(integer, min, max);
        if (num.bounded() && !Parse.feasible(num, "") && !Parse.feasible(num, "-")) {
            throw new SchemaException(min != null ? "minimum" : "maximum", "no " + (integer ? "integer" : "number")
                    + " of at most " + Schema.Num.MAX_INT_DIGITS + " digits lies within minimum/maximum");
        }
        return num;
    }

    private static BigDecimal bound(JsonNode s, String keyword) {
        JsonNode v = s.get(keyword);
        if (v == null) {
            return null;
        }
        if (!v.isNumber()) {
            throw new SchemaException(keyword, keyword + " must be a number");
        }
        BigDecimal d = v.decimalValue();
        if (d.precision() - d.scale() > 40 || d.scale() > 40) {
            throw new SchemaException(keyword, keyword + " is out of range");
        }
        return d;
    }

    /** The schema as compact JSON text: the cache key of compiled schemas. */
    static String canonical(JsonNode schema) {
        try {
            return JSON.writeValueAsString(schema);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
