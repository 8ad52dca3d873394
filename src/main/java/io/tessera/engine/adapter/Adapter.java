package io.tessera.engine.adapter;

/**
 * An adapter loaded from disk and validated against the base model, held in host memory (float arrays) until
 * the engine installs it. One class per kind, chosen by the {@code peft_type} the adapter declares.
 */
public sealed interface Adapter permits LoraAdapter, PromptTuningAdapter, ExpertGroupAdapter {
    /** LORA (DoRA included), PROMPT_TUNING or MOGE_EXPERT_GROUPS, as PEFT names them. */
    String peftType();

    /** Bytes of weights, for residency budgets. */
    long bytes();
}
