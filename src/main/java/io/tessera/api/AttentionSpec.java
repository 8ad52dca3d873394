package io.tessera.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * Tessera's {@code attention} extension: {@code {"type":"lm-infinite","n_global":8,"n_local":256}}. Unset numbers
 * take the model's defaults (8 global tokens; n_local and max_distance = max_position_embeddings).
 */
@Schema(description = "Tessera extension: how the sequence attends to its past. lm-infinite keeps n_global + n_local "
        + "KV entries and has no context limit.")
public record AttentionSpec(
        @Schema(enumeration = {"full", "lm-infinite"}) String type,
        @JsonProperty("n_global") Integer nGlobal,
        @JsonProperty("n_local") Integer nLocal,
        @JsonProperty("max_distance") Integer maxDistance) {
}
