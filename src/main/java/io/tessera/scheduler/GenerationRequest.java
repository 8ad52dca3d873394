package io.tessera.scheduler;

import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.sampling.SamplingParams;
import io.tessera.engine.structured.Schema;
import io.tessera.runtime.AdapterRef;

/**
 * A tokenized request for the scheduler.
 *
 * @param tenant  who asked ({@code Caller.scope()}): tenants take turns, and a cached prompt prefix serves only
 *                requests of the tenant that made it
 * @param model   the model name the client asked for (the base model's or the adapter's), for metrics
 * @param adapter null for the base model
 * @param output  the schema the output must follow (response_format, a tool call), compiled; null for free text
 */
public record GenerationRequest(String tenant, String model, AdapterRef adapter, int[] prompt, SamplingParams params,
                                AttentionPolicy attention, Schema output) {

    /** A request for free text. */
    public GenerationRequest(String tenant, String model, AdapterRef adapter, int[] prompt, SamplingParams params,
                             AttentionPolicy attention) {
        this(tenant, model, adapter, prompt, params, attention, null);
    }
}
