package io.tessera.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.tessera.scheduler.GenerationListener.Finished;

/** Token counts of a request; completion tokens include an end-of-sequence token. */
public record Usage(@JsonProperty("prompt_tokens") int promptTokens,
                    @JsonProperty("completion_tokens") int completionTokens,
                    @JsonProperty("total_tokens") int totalTokens) {

    static Usage of(Finished f) {
        return new Usage(f.promptTokens(), f.completionTokens(), f.promptTokens() + f.completionTokens());
    }
}
