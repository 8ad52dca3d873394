package io.tessera.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** {@code GET /v1/models}: the base model and the caller's adapters, each adapter naming its base as parent. */
public record ModelList(String object, List<ModelCard> data) {

    public record ModelCard(String id, String object,
                            @Schema(description = "Unix seconds: an adapter's, when its version was uploaded; the base "
                                    + "model's, when its config.json was written") long created,
                            @JsonProperty("owned_by") String ownedBy, String root, String parent,
                            @JsonProperty("max_model_len") @Schema(description = "Prompt plus generated tokens one request "
                                    + "may hold (as vLLM): the smaller of the model's trained length and the KV room per sequence")
                            int maxModelLen) {
    }
}
