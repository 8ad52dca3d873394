package io.tessera.engine;

import ai.djl.ndarray.NDManager;

/** What every layer of one step shares: its NDArray scope, its plan and its rows' adapters. */
record StepContext(NDManager manager, StepPlan plan, AdapterBatch adapters, RoutingTrace routing) {
}
