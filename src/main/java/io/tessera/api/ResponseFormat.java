package io.tessera.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.engine.structured.Schema;
import io.tessera.engine.structured.SchemaCompiler;
import io.tessera.engine.structured.SchemaException;
import io.tessera.scheduler.InvalidRequestException;

/**
 * {@code response_format}: {@code text} (the default), {@code json_object} (any one JSON object) or
 * {@code json_schema} (a value valid against the schema, whatever {@code strict} says). The output is guaranteed by
 * constrained decoding, so a schema keyword that cannot be guaranteed is refused, never ignored.
 */
final class ResponseFormat {

    static final String FIELD = "response_format";

    private ResponseFormat() {
    }

    /** The schema the output must follow, or null for free text. */
    static Schema read(JsonNode format) {
        if (format == null || format.isNull()) {
            return null;
        }
        String type = format.path("type").asText("");
        switch (type) {
            case "text" -> {
                return null;
            }
            case "json_object" -> {
                return Schema.jsonObject();
            }
            case "json_schema" -> {
                JsonNode spec = format.path("json_schema");
                if (!spec.path("name").isTextual() || spec.path("name").asText().isEmpty()) {
                    throw new InvalidRequestException(FIELD + ".json_schema.name", FIELD + ".json_schema.name is required");
                }
                JsonNode schema = spec.get("schema");
                if (schema == null) {
                    // OpenAI: a json_schema without a schema allows any JSON object
                    return Schema.jsonObject();
                }
                return compile(schema, FIELD + ".json_schema.schema");
            }
            default -> throw new InvalidRequestException(FIELD + ".type", FIELD + ".type must be text, json_object or "
                    + "json_schema, got " + InvalidRequestException.quote(format.path("type").toString()));
        }
    }

    /** Compiles a client's schema; what cannot be guaranteed is a 400 naming the keyword. */
    static Schema compile(JsonNode schema, String param) {
        try {
            return SchemaCompiler.cached(schema);
        } catch (SchemaException e) {
            throw new InvalidRequestException(e.keyword() == null ? param : param + "." + e.keyword(),
                    param + ": " + e.getMessage());
        }
    }
}
