package io.tessera.engine.adapter;

import io.tessera.engine.AdapterWeights;

/**
 * A PEFT adapter read from disk and checked against the base model, held in host memory (float arrays) until the
 * engine installs it in its kind's store. One class per kind, each owning its parsing and validation, its
 * description and its store; {@link Kind} is the one registration of kinds.
 */
public sealed interface Adapter extends AdapterWeights permits LoraAdapter, DoraAdapter, PromptTuningAdapter, ExpertGroupAdapter,
        DeptAdapter {

    /** The kinds, as the registry stores them; the ones with a parser are chosen by the peft_type of that name. */
    enum Kind {
        LORA(LoraAdapter::parse),          // rsLoRA included; use_dora makes it a DORA
        DORA(null),
        PROMPT_TUNING(PromptTuningAdapter::parse),
        MOGE_EXPERT_GROUPS(ExpertGroupAdapter::parse),
        PROMPT_TUNING_LORA(DeptAdapter::parse);   // DePT

        final Parser parser;

        Kind(Parser parser) {
            this.parser = parser;
        }
    }

    /** Reads one kind from an opened adapter directory, refusing with the reason whatever cannot be served exactly. */
    @FunctionalInterface
    interface Parser {
        Adapter parse(AdapterSource source);
    }

    /** What the registry records of it. */
    Description describe();

    /** Bytes of its weights in host memory. */
    long bytes();
}
