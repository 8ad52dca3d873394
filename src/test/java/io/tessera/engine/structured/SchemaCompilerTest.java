package io.tessera.engine.structured;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.engine.tokenizer.TextTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What compiles, what is refused (naming the keyword), and which texts the automaton accepts byte by byte. */
class SchemaCompilerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static TextTokenizer tok;

    @BeforeAll
    static void load() {
        tok = TextTokenizer.load(Path.of("models/demo-llama"));
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    private static Schema compile(String schema) throws Exception {
        return SchemaCompiler.compile(JSON.readTree(schema));
    }

    /** Whether the automaton takes {@code text} whole, as a complete value. */
    private static boolean accepts(Schema schema, String text) {
        List<Parse.Stack> at = new ArrayList<>(List.of(Parse.start(schema)));
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            at = Parse.stepAll(at, b & 0xFF);
            if (at.isEmpty()) {
                return false;
            }
        }
        return at.stream().anyMatch(Parse::complete);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"type\":\"string\",\"format\":\"email\"}|format",
        "{\"oneOf\":[{\"type\":\"string\"}]}|oneOf",
        "{\"allOf\":[{\"type\":\"string\"}]}|allOf",
        "{\"not\":{}}|not",
        "{\"type\":\"number\",\"multipleOf\":2}|multipleOf",
        "{\"type\":\"number\",\"exclusiveMinimum\":2}|exclusiveMinimum",
        "{\"type\":\"object\",\"patternProperties\":{}}|patternProperties",
        "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}}|additionalProperties",
        "{\"type\":\"array\",\"prefixItems\":[]}|prefixItems",
        "{\"type\":\"array\",\"items\":[{}]}|items",
        "{\"type\":\"array\",\"uniqueItems\":true}|uniqueItems",
        "{\"type\":\"string\",\"pattern\":\"(?=a)\"}|pattern",
        "{\"type\":\"string\",\"pattern\":\"(a)\\\\1\"}|pattern",
        "{\"type\":\"string\",\"pattern\":\"\\\\bword\"}|pattern",
        "{\"type\":\"string\",\"pattern\":\"a{1000}\"}|pattern",
        "{\"type\":\"string\",\"pattern\":\"^abcdef$\",\"maxLength\":3}|pattern",
        "{\"$defs\":{\"n\":{\"type\":\"object\",\"properties\":{\"n\":{\"$ref\":\"#/$defs/n\"}}}},\"$ref\":\"#/$defs/n\"}|$ref",
        "{\"$ref\":\"#\"}|$ref",
        "{\"$ref\":\"http://example.com/s.json\"}|$ref",
        "{\"type\":\"integer\",\"minimum\":5,\"maximum\":4}|minimum",
        "{\"type\":\"object\",\"properties\":{},\"required\":[\"x\"]}|required",
        "{\"type\":\"text\"}|type",
        "{\"enum\":[1],\"maxLength\":3}|maxLength",
    })
    void unsupportedKeywordsAreNamed(String schema, String keyword) {
        assertThatThrownBy(() -> compile(schema)).isInstanceOf(SchemaException.class)
                .satisfies(e -> assertThat(((SchemaException) e).keyword()).isEqualTo(keyword))
                .hasMessageContaining(keyword);
    }

    @Test
    void annotationsAreAccepted() throws Exception {
        compile("{\"title\":\"t\",\"description\":\"d\",\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
                + "\"type\":\"string\",\"default\":\"x\",\"examples\":[\"y\"]}");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"type\":\"integer\",\"minimum\":-5,\"maximum\":17}|17|true",
        "{\"type\":\"integer\",\"minimum\":-5,\"maximum\":17}|18|false",
        "{\"type\":\"integer\",\"minimum\":-5,\"maximum\":17}|-05|false",
        "{\"type\":\"integer\",\"minimum\":-5,\"maximum\":17}|1.5|false",
        "{\"type\":\"number\",\"minimum\":0.5,\"maximum\":2.25}|2.25|true",
        "{\"type\":\"number\",\"minimum\":0.5,\"maximum\":2.25}|2.26|false",
        "{\"type\":\"number\",\"minimum\":0.5,\"maximum\":2.25}|0.4|false",
        "{\"type\":\"number\"}|-0.125|true",
        "{\"type\":\"number\"}|01|false",
        "{\"type\":\"string\",\"pattern\":\"^[A-Z]{3}-[0-9]{2,4}$\"}|\"ABC-123\"|true",
        "{\"type\":\"string\",\"pattern\":\"^[A-Z]{3}-[0-9]{2,4}$\"}|\"ABC-12345\"|false",
        "{\"type\":\"string\",\"pattern\":\"ab+c\"}|\"xxabbcyy\"|true",
        "{\"type\":\"string\",\"pattern\":\"ab+c\"}|\"xxacyy\"|false",
        "{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}|\"äö\"|true",
        "{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}|\"äöüß\"|false",
        "{\"type\":\"string\"}|\"a\\\"b\\n\"|true",
        "{\"type\":\"string\"}|\"a\\u0041\"|false",
        "{\"enum\":[1,12,\"x\"]}|12|true",
        "{\"enum\":[1,12,\"x\"]}|1|true",
        "{\"enum\":[1,12,\"x\"]}|2|false",
        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"boolean\"}},\"required\":[\"b\"]}|{\"a\": 1, \"b\": true}|true",
        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"boolean\"}},\"required\":[\"b\"]}|{\"b\":true}|true",
        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"boolean\"}},\"required\":[\"b\"]}|{\"a\":1}|false",
        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"boolean\"}},\"required\":[\"b\"]}|{\"b\":true,\"a\":1}|false",
        "{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":1,\"maxItems\":2}|[1, 2]|true",
        "{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":1,\"maxItems\":2}|[]|false",
        "{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":1,\"maxItems\":2}|[1,2,3]|false",
        "{\"anyOf\":[{\"type\":\"object\",\"properties\":{\"cat\":{\"type\":\"string\"}},\"required\":[\"cat\"]},{\"type\":\"object\",\"properties\":{\"car\":{\"type\":\"integer\"}},\"required\":[\"car\"]}]}|{\"car\":3}|true",
        "{\"anyOf\":[{\"type\":\"object\",\"properties\":{\"cat\":{\"type\":\"string\"}},\"required\":[\"cat\"]},{\"type\":\"object\",\"properties\":{\"car\":{\"type\":\"integer\"}},\"required\":[\"car\"]}]}|{\"car\":\"x\"}|false",
        "{\"type\":[\"string\",\"null\"]}|null|true",
        "{}|{\"k\": [1, {\"z\": null}]}|true",
        "{}|'  1'|false",
        "{}|' 1'|true",
    })
    void acceptsExactlyTheValidTexts(String schema, String text, boolean valid) throws Exception {
        assertThat(accepts(compile(schema), text)).as(text).isEqualTo(valid);
    }

    @Test
    void jsonObjectModeTakesOneObjectOnly() {
        assertThat(accepts(Schema.jsonObject(), "{\"a\": {\"b\": [true, \"x\"]}}")).isTrue();
        assertThat(accepts(Schema.jsonObject(), "[1]")).isFalse();
        assertThat(accepts(Schema.jsonObject(), "{\"a\":1} {")).isFalse();
        assertThat(accepts(Schema.jsonObject(), "\"a\"")).isFalse();
    }

    @Test
    void nestingOfFreeValuesIsBounded() {
        String deep = "[".repeat(Schema.MAX_DEPTH) + "1" + "]".repeat(Schema.MAX_DEPTH);
        String deeper = "[".repeat(Schema.MAX_DEPTH + 1) + "1" + "]".repeat(Schema.MAX_DEPTH + 1);
        assertThat(accepts(Schema.any(0), deep)).isTrue();
        assertThat(accepts(Schema.any(0), deeper)).isFalse();
    }

    @Test
    void masksAllowOnlyTokensThatKeepTheValueValidAndEndOnlyWhenComplete() throws Exception {
        Grammar g = TokenVocabulary.of(tok).grammar(compile("{\"enum\":[\"yes\",\"no\"]}"));
        Constraint c = new Constraint(g);
        int quote = tok.encode("\"", false)[0];
        int x = tok.encode("x", false)[0];
        assertThat(c.allows(quote)).isTrue();
        assertThat(c.allows(x)).isFalse();
        assertThat(c.complete()).isFalse();
        for (int id : tok.encode("\"yes\"", false)) {
            assertThat(c.allows(id)).as("token %d", id).isTrue();
            c.accept(id);
        }
        assertThat(c.complete()).isTrue();
        assertThat(c.finished()).isTrue();
        float[] logits = new float[4096];
        float[] masked = c.mask(logits, 4096, java.util.Set.of(0), new float[4096]);
        assertThat(masked[0]).isZero();
        assertThat(masked[x]).isEqualTo(Float.NEGATIVE_INFINITY);
    }

    @Test
    void compiledSchemasAndGrammarsAreCached() throws Exception {
        Schema a = SchemaCompiler.cached(JSON.readTree("{\"type\": \"string\"}"));
        Schema b = SchemaCompiler.cached(JSON.readTree("{\"type\":\"string\"}"));
        assertThat(a).isSameAs(b);
        TokenVocabulary v = TokenVocabulary.of(tok);
        assertThat(v).isSameAs(TokenVocabulary.of(tok));
        assertThat(v.grammar(a)).isSameAs(v.grammar(b));
    }
}
