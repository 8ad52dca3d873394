package io.tessera.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.engine.structured.Schema;
import io.tessera.scheduler.InvalidRequestException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code tools} and {@code tool_choice} of a chat request. The model's chat template receives the tools; the output
 * is a call {@code {"name": ..., "arguments": {...}}} constrained to the tools' parameter schemas: always with
 * {@code "required"} or a named function, only if the output opens with {@code '{'} with {@code "auto"} (the
 * default), never with {@code "none"}.
 *
 * @param specs  the tools as the template sees them (each {@code {"type": "function", "function": {...}}})
 * @param output what the output must follow: a call, text or a call, or null (free text)
 */
record Tools(List<Object> specs, Schema output) {

    static final String FIELD = "tools";
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Null when the request has no tools. */
    static Tools read(JsonNode tools, JsonNode choice) {
        if (tools == null || tools.isNull()) {
            if (choice != null && !choice.isNull() && !"none".equals(choice.asText())) {
                throw new InvalidRequestException("tool_choice", "tool_choice needs tools");
            }
            return null;
        }
        if (!tools.isArray() || tools.isEmpty() || tools.size() > 128) {
            throw new InvalidRequestException(FIELD, "tools must be a list of 1 to 128 functions");
        }
        Map<String, Schema> parameters = new LinkedHashMap<>();
        for (int i = 0; i < tools.size(); i++) {
            String at = FIELD + "[" + i + "]";
            JsonNode t = tools.get(i);
            if (!"function".equals(t.path("type").asText())) {
                throw new InvalidRequestException(at + ".type", at + ".type must be \"function\"");
            }
            JsonNode f = t.path("function");
            String name = f.path("name").asText("");
            if (!f.path("name").isTextual() || !NAME.matcher(name).matches()) {
                throw new InvalidRequestException(at + ".function.name", at + ".function.name must be 1 to 64 of "
                        + "a-z, A-Z, 0-9, _ and -");
            }
            if (parameters.containsKey(name)) {
                throw new InvalidRequestException(at + ".function.name", "two tools are named " + name);
            }
            JsonNode params = f.has("parameters") ? f.get("parameters") : JSON.createObjectNode().put("type", "object");
            parameters.put(name, ResponseFormat.compile(params, at + ".function.parameters"));
        }
        List<Object> specs = JSON.convertValue(tools, List.class);
        Schema call = Schema.toolCall(parameters);
        if (choice == null || choice.isNull() || "auto".equals(choice.asText(null))) {
            return new Tools(specs, Schema.textOr(call));
        }
        if (choice.isTextual()) {
            return switch (choice.asText()) {
                case "none" -> new Tools(specs, null);
                case "required" -> new Tools(specs, call);
                default -> throw new InvalidRequestException("tool_choice", "tool_choice must be none, auto, required "
                        + "or {\"type\": \"function\", \"function\": {\"name\": ...}}");
            };
        }
        String name = choice.path("function").path("name").asText("");
        if (!"function".equals(choice.path("type").asText()) || !parameters.containsKey(name)) {
            throw new InvalidRequestException("tool_choice", "tool_choice must name one of the tools as "
                    + "{\"type\": \"function\", \"function\": {\"name\": ...}}");
        }
        return new Tools(specs, Schema.toolCall(Map.of(name, parameters.get(name))));
    }

    /** Whether the output may be a call. */
    boolean mayCall() {
        return output != null;
    }
}
