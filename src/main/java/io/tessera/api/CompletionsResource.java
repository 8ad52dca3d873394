package io.tessera.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.smallrye.common.annotation.Blocking;
import io.tessera.runtime.ModelHost;
import io.tessera.scheduler.InvalidRequestException;
import io.tessera.security.Caller;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.headers.Header;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestMulti;

@Path("/v1/completions")
@RolesAllowed({Caller.ADMIN_ROLE, Caller.TENANT_ROLE})
@Tag(name = "Completions", description = "Text completion of a prompt (OpenAI's legacy completions)")
public class CompletionsResource {
    /** OpenAI's default for the legacy completions endpoint. */
    static final int DEFAULT_MAX_TOKENS = 16;
    /** OpenAI's limit for completions logprobs. */
    static final int MAX_LOGPROBS = 5;

    @Inject
    Inference inference;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Blocking   // tokenizing runs here, off the event loop
    @Operation(operationId = "createCompletion", summary = "Completes a prompt", description = "With stream: true the body is server-sent events of "
            + "completion chunks ending in data: [DONE].")
    @APIResponse(responseCode = "200", description = "The completion, or its stream", headers = @Header(name = Inference.TIER_HEADER,
            description = Inference.TIER_DESCRIPTION, schema = @Schema(type = SchemaType.STRING, enumeration = {"engine", "host", "store"})),
            content = {
        @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = CompletionResponse.class)),
        @Content(mediaType = MediaType.SERVER_SENT_EVENTS, schema = @Schema(implementation = CompletionResponse.class))})
    @APIResponse(responseCode = "400", ref = "InvalidRequest")
    @APIResponse(responseCode = "404", ref = "ModelNotFound")
    @APIResponse(responseCode = "413", ref = "RequestTooLarge")
    @APIResponse(responseCode = "429", ref = "QueueFull")
    @APIResponse(responseCode = "503", ref = "Unavailable")
    @APIResponse(responseCode = "504", ref = "Timeout")
    public RestMulti<String> complete(CompletionRequest r) {
        if (r == null) {
            throw new InvalidRequestException(null, "the request body must be a JSON object");
        }
        RequestReader.refuse(Boolean.TRUE.equals(r.echo()), "echo", "only echo: false");
        RequestReader.refuse(r.suffix() != null, "suffix", "no insertion");
        RequestReader.refuse(r.bestOf() != null && r.bestOf() != 1, "best_of", "only best_of: 1");
        RequestReader.refuse(r.logitBias() != null && !r.logitBias().isEmpty(), "logit_bias", "no logit bias");
        int logprobs = r.logprobs() == null ? -1 : r.logprobs();
        if (r.logprobs() != null && (logprobs < 0 || logprobs > MAX_LOGPROBS)) {
            throw new InvalidRequestException("logprobs", "logprobs must be in [0, " + MAX_LOGPROBS + "], got " + logprobs);
        }
        int maxTokens = r.maxTokens() == null ? DEFAULT_MAX_TOKENS : r.maxTokens();
        TokenTexts texts = logprobs >= 0 ? new TokenTexts(inference.host().tokenizer()) : null;
        return inference.respond(r, new CompletionFormat(r.model(), texts), host -> prompt(r.prompt(), host),
                (promptTokens, attention, limit, maxNew) ->
                        RequestReader.params(r, maxTokens, "max_tokens", maxNew, logprobs >= 0, Math.max(0, logprobs)));
    }

    /** One prompt: a string, a list holding one string, or a list of token ids. */
    private static int[] prompt(JsonNode p, ModelHost host) {
        if (p != null && p.isTextual()) {
            return host.tokenizer().encode(p.asText());
        }
        if (p != null && p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
            return host.tokenizer().encode(p.get(0).asText());
        }
        if (p != null && p.isArray() && !p.isEmpty() && p.get(0).isNumber()) {
            int vocab = host.engine().config().vocabSize();
            int[] ids = new int[p.size()];
            for (int i = 0; i < ids.length; i++) {
                JsonNode id = p.get(i);
                // 1.5 or 1e3 are numbers but no token ids: only integral literals, checked before narrowing
                if (!id.isIntegralNumber() || !id.canConvertToInt() || id.asInt() < 0 || id.asInt() >= vocab) {
                    throw new InvalidRequestException("prompt", "prompt token ids must be integers in [0, " + vocab + "), got " + id);
                }
                ids[i] = id.asInt();
            }
            return ids;
        }
        if (p != null && p.isArray() && p.size() > 1 && p.get(0).isTextual()) {
            throw new InvalidRequestException("prompt", "one prompt per request: send several requests for several prompts");
        }
        throw new InvalidRequestException("prompt", "prompt must be a string, a list with one string or a list of token ids");
    }
}
