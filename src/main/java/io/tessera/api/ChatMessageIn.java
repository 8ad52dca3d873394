package io.tessera.api;

import com.fasterxml.jackson.databind.JsonNode;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A chat message as clients send it: content is a string or a list of {@code {"type":"text","text":...}} parts. */
public record ChatMessageIn(
        @Schema(required = true) String role,
        @Schema(oneOf = {String.class, ContentPart[].class}) JsonNode content,
        @Schema(description = "Accepted and ignored: the chat templates have no place for a participant's name") String name) {

    /** A content part; only text parts are accepted. */
    public record ContentPart(String type, String text) {
    }
}
