package io.tessera.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** {@code stream_options}: with {@code include_usage}, a last chunk before [DONE] carries the usage. */
public record StreamOptions(@JsonProperty("include_usage") Boolean includeUsage) {
}
