package io.tessera.scheduler;

import java.util.Locale;

/** Why a sequence ended, as OpenAI's finish_reason says it. */
public enum FinishReason {
    /** End-of-sequence token, a stop token or a stop string. */
    STOP,
    /** max_tokens reached (or the sequence's KV room ran out). */
    LENGTH;

    public String openAi() {
        return name().toLowerCase(Locale.ROOT);
    }
}
