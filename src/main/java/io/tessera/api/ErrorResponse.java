package io.tessera.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The OpenAI error body. */
public record ErrorResponse(ErrorDetail error) {

    /** OpenAI's four fields, and the request's id (also the X-Request-Id header) to quote when reporting it. */
    public record ErrorDetail(String message, String type, String param, String code,
                              @JsonProperty("request_id") @Schema(description = "The request's X-Request-Id") String requestId) {
    }
}
