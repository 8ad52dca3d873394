package io.tessera.scheduler;

import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.sampling.SamplingParams;
import io.tessera.runtime.AdapterRef;

/**
 * A tokenized request for the scheduler.
 *
 * @param tenant  who asked ({@code Caller.scope()}): tenants take turns, and a cached prompt prefix serves only
 *                requests of the tenant that made it
 * @param model   the model name the client asked for (the base model's or the adapter's), for metrics
 * @param adapter null for the base model
 */
public record GenerationRequest(String tenant, String model, AdapterRef adapter, int[] prompt, SamplingParams params,
                                AttentionPolicy attention) {
}
