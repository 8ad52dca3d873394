package io.tessera.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.tessera.scheduler.GenerationListener.Finished;

/** Token counts of a request; completion tokens include an end-of-sequence token. */
public record Usage(@JsonProperty("prompt_tokens") int promptTokens,
                    @JsonProperty("completion_tokens") int completionTokens,
                    @JsonProperty("total_tokens") int totalTokens,
                    @JsonProperty("prompt_tokens_details") PromptTokensDetails promptTokensDetails) {

    /** As OpenAI: {@code cached_tokens} of the prompt came from the prefix cache. */
    public record PromptTokensDetails(@JsonProperty("cached_tokens") int cachedTokens) {
    }

    static Usage of(Finished f) {
        return new Usage(f.promptTokens(), f.completionTokens(), f.promptTokens() + f.completionTokens(),
                new PromptTokensDetails(f.cachedTokens()));
    }
}
