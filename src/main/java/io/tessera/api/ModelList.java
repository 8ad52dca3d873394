package io.tessera.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** {@code GET /v1/models}: the base model and the caller's adapters, each adapter naming its base as parent. */
public record ModelList(String object, List<ModelCard> data) {

    public record ModelCard(String id, String object, long created, @JsonProperty("owned_by") String ownedBy,
                            String root, String parent) {
    }
}
