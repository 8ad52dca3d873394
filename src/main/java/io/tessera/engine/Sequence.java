package io.tessera.engine;

/**
 * A sequence's place in the engine: its KV slot, how many positions its cache has seen (virtual prompt-tuning
 * tokens included), its attention policy and its adapter. Owned and mutated by the engine thread only.
 */
public final class Sequence {
    final long id;
    final AttentionPolicy policy;
    final ResidentAdapter adapter;
    int slot;
    int length;
    int promptEnd;   // the first position past the prompt (virtual tokens included)
    boolean released;

    Sequence(long id, int slot, AttentionPolicy policy, ResidentAdapter adapter) {
        this.id = id;
        this.slot = slot;
        this.policy = policy;
        this.adapter = adapter;
    }

    public long id() {
        return id;
    }

    public AttentionPolicy policy() {
        return policy;
    }

    public ResidentAdapter adapter() {
        return adapter;
    }

    /** Positions in the cache so far, virtual tokens included. */
    public int length() {
        return length;
    }

    /** Prompt-tuning tokens this sequence starts with (0 without a prompt adapter). */
    public int virtualTokens() {
        return adapter == null ? 0 : adapter.virtualTokens();
    }

    public boolean released() {
        return released;
    }
}
