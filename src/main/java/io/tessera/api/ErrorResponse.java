package io.tessera.api;

/** The OpenAI error body. */
public record ErrorResponse(ErrorDetail error) {

    public record ErrorDetail(String message, String type, String param, String code) {
    }
}
