package io.tessera.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A chat message as clients send it: content is a string or a list of {@code {"type":"text","text":...}} parts. */
public record ChatMessageIn(
        @Schema(required = true) String role,
        @Schema(oneOf = {String.class, ContentPart[].class}) JsonNode content,
        @Schema(description = "A tool turn's function name (given to the chat template); otherwise ignored") String name,
        @JsonProperty("tool_calls") @Schema(description = "An assistant turn's calls, as the response gave them") JsonNode toolCalls,
        @JsonProperty("tool_call_id") @Schema(description = "A tool turn: the call it answers") String toolCallId) {

    /** A content part; only text parts are accepted. */
    public record ContentPart(String type, String text) {
    }
}
