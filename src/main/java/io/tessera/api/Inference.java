package io.tessera.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.operators.multi.processors.UnicastProcessor;
import io.tessera.adapters.AdapterCatalog;
import io.tessera.adapters.AdapterResidency;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.sampling.SamplingParams;
import io.tessera.engine.structured.Schema;
import io.tessera.engine.structured.TokenVocabulary;
import io.tessera.engine.tokenizer.TokenizerException;
import io.tessera.runtime.AdapterRef;
import io.tessera.runtime.ModelHost;
import io.tessera.scheduler.Generation;
import io.tessera.scheduler.GenerationListener;
import io.tessera.scheduler.GenerationRequest;
import io.tessera.scheduler.InvalidRequestException;
import io.tessera.scheduler.Scheduler;
import io.tessera.security.Accounting;
import io.tessera.security.Caller;
import io.tessera.service.ServingState;
import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;
import java.util.function.Function;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.RestMulti;

/** The request path both endpoints share: resolve the model, hold a queue place, tokenize, submit, stream events. */
@ApplicationScoped
public class Inference {
    private static final Logger LOG = Logger.getLogger(Inference.class);
    /**
     * Where an adapter request's adapter was when the request was queued: {@code engine} (installed), {@code host}
     * (validated in host memory) or {@code store} (on disk or in the blob store, to be read and checked first).
     */
    static final String TIER_HEADER = "X-Tessera-Adapter-Tier";
    static final String TIER_DESCRIPTION = "Only when the model is an adapter: where it was when the request was queued, "
            + "engine (installed), host (in host memory) or store (on disk or in the blob store; loaded before it runs)";

    @Inject
    ServingState state;

    @Inject
    AdapterCatalog catalog;

    @Inject
    AdapterResidency residency;

    @Inject
    SecurityIdentity identity;

    @Inject
    Accounting accounting;

    @Inject
    HttpServerRequest request;

    @Inject
    ObjectMapper json;

    /** What a model name resolved to: the base model (adapter null) or one of the caller's adapters. */
    record Target(String name, AdapterRef adapter) {
        int virtualTokens() {
            return adapter == null ? 0 : adapter.virtualTokens();
        }

        /** The name usage is counted under: as asked, but {@code name@N} as the registry numbers it (no leading zeros). */
        String usageName() {
            return adapter == null || name.indexOf('@') < 0 ? name : adapter.name() + "@" + adapter.version();
        }
    }

    /** A request's output: tokens, then one {@link Done}. */
    sealed interface Event permits TokenOut, Done {
    }

    record TokenOut(Generation.Token token) implements Event {
    }

    record Done(GenerationListener.Finished finished) implements Event {
    }

    /** What the endpoint decides once the prompt is tokenized. */
    interface Prepared {
        /**
         * @param promptTokens prompt tokens plus a prompt adapter's virtual tokens
         * @param maxNewTokens the most tokens one request may generate
         */
        SamplingParams params(int promptTokens, AttentionPolicy attention, int contextLimit, int maxNewTokens);
    }

    ModelHost host() {
        return state.host();
    }

    /**
     * Submits the request and writes its events in the endpoint's format: one JSON body, or a stream. The output is
     * constrained as the request's response_format says.
     */
    RestMulti<String> respond(SamplingFields f, EventBody.Format format, Function<ModelHost, int[]> tokenize, Prepared prepared) {
        return respond(f, ResponseFormat.read(f.responseFormat()), format, tokenize, prepared);
    }

    /** As above, the output constrained to {@code output} (null: free text). */
    RestMulti<String> respond(SamplingFields f, Schema output, EventBody.Format format, Function<ModelHost, int[]> tokenize,
                              Prepared prepared) {
        String requestId = RequestIds.of(request);
        Multi<Event> events = submit(f, output, format.id(), requestId, tokenize, prepared);
        return EventBody.write(events, RequestReader.stream(f), RequestReader.includeUsage(f), format, json, requestId);
    }

    /**
     * Queues a request. Refusals come in this order, each before costlier work: shutting down or loading (503),
     * fields checked without the prompt (400), unknown model (404: another tenant's adapter too), tenant over its
     * rate limits (429), queue full (429); then, once the prompt is tokenized, sampling fields and the context limit
     * (400). Cancelling the returned stream cancels the sequence.
     */
    private Multi<Event> submit(SamplingFields f, Schema output, String completionId, String requestId,
                                Function<ModelHost, int[]> tokenize, Prepared prepared) {
        Scheduler scheduler = state.scheduler();
        ModelHost host = scheduler.host();
        RequestReader.checkCommon(f);
        if (output != null) {
            structuredOutputSupported(host);
        }
        AttentionPolicy attention = RequestReader.attention(f.attention(), host.engine().config(), host.engine().cacheCapacity());
        Caller who = Caller.of(identity);
        Target target = resolve(host, who, f.model());
        accounting.admit(who);
        try (Scheduler.Place place = scheduler.reserve()) {
            int[] prompt = tokenize.apply(host);
            // both ids: the client knows the request's, the response carries the completion's
            LOG.infof("%s request %s: %s, %d prompt tokens", completionId, requestId, target.name(), prompt.length);
            SamplingParams params = prepared.params(prompt.length + target.virtualTokens(), attention, host.contextLimit(),
                    scheduler.maxNewTokens());
            if (target.adapter() != null) {
                // looked at before the submit, whose prefetch starts moving it up
                String tier = residency.tier(Optional.of(host.adapters()), target.adapter().key());
                request.response().headers().set(TIER_HEADER, tier);
            }
            UnicastProcessor<Event> events = UnicastProcessor.create();
            Scheduler.Handle handle = place.submit(
                    new GenerationRequest(who.scope(), target.name(), target.adapter(),
                            prompt, params, attention, output),
                    new GenerationListener() {
                        private boolean charged;

                        @Override
                        public void onUsage(int promptTokens, int generatedTokens) {
                            // billed as consumed: a stream that is cancelled, fails or times out pays what it used
                            accounting.charge(who, target.usageName(), charged ? 0 : 1, promptTokens, generatedTokens);
                            charged = true;
                        }

                        @Override
                        public void onToken(Generation.Token token) {
                            events.onNext(new TokenOut(token));
                        }

                        @Override
                        public void onFinish(Finished finished) {
                            events.onNext(new Done(finished));
                            events.onComplete();
                        }

                        @Override
                        public void onError(Throwable error) {
                            events.onError(error);
                        }
                    });
            return events.onCancellation().invoke(() -> {
                // a client closing its connection is routine: one line, no stack
                LOG.infof("%s: the client went away; its sequence is cancelled", target.name());
                handle.cancel();
            });
        }
    }

    /** Builds the tokenizer's vocabulary trie on first use; a tokenizer it cannot read is the request's problem. */
    private static void structuredOutputSupported(ModelHost host) {
        try {
            TokenVocabulary.of(host.tokenizer());
        } catch (TokenizerException e) {
            throw new InvalidRequestException(ResponseFormat.FIELD, e.getMessage());
        }
    }

    /** The base model, or an adapter of the caller's tenant (the admin key has none). */
    private Target resolve(ModelHost host, Caller who, String model) {
        if (model.equals(host.name())) {
            return new Target(model, null);
        }
        return catalog.resolve(who.tenantId(), model).map(a -> new Target(model, a))
                .orElseThrow(() -> new ModelNotFoundException(model));
    }
}
