package io.tessera.engine;

import ai.djl.ndarray.NDArray;

/**
 * Replacement experts for the rows of a step that use expert-group adapters. Routing is unchanged: a token of
 * such a row routed to expert e of a replaced group runs the adapter's expert instead.
 *
 * @param rowMaps per packed row, null (base experts) or a map from base expert id to an index into the
 *                replacement stacks (-1 where the base expert stays)
 * @param gateUp  per layer [A, hidden, 2 * moeIntermediate] replacement experts of all resident adapters
 * @param down    per layer [A, moeIntermediate, hidden]
 */
public record ExpertOverride(int[][] rowMaps, NDArray[] gateUp, NDArray[] down) {
}
