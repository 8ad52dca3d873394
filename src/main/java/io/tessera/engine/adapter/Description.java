package io.tessera.engine.adapter;

import java.util.List;

/**
 * An adapter as the registry records it: its kind and that kind's own parameters, null where they do not apply.
 *
 * @param rank          the largest LoRA rank (LoRA, DoRA), the rank of the embedding update (DePT)
 * @param virtualTokens the embeddings prompt tuning and DePT prepend
 * @param maxLength     the prompt positions DePT's embedding update covers
 * @param expertGroups  the expert groups an expert-group adapter replaces, ascending
 * @param targetModules what it changes, for listings
 */
public record Description(Adapter.Kind kind, Integer rank, Integer virtualTokens, Integer maxLength, List<Integer> expertGroups,
                          String targetModules) {
}
