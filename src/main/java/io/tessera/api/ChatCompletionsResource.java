package io.tessera.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.common.annotation.Blocking;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.tokenizer.ChatMessage;
import io.tessera.runtime.ModelHost;
import io.tessera.scheduler.InvalidRequestException;
import io.tessera.security.Caller;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.headers.Header;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestMulti;

@Path("/v1/chat/completions")
@RolesAllowed({Caller.ADMIN_ROLE, Caller.TENANT_ROLE})
@Tag(name = "Chat", description = "Chat completions through the model's chat template")
public class ChatCompletionsResource {
    /** The roles a chat has; a tool turn answers a call ({@code tool_call_id}). */
    static final List<String> ROLES = List.of("system", "developer", "user", "assistant", "tool");
    private static final List<String> PART_FIELDS = List.of("type", "text");

    @Inject
    Inference inference;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Blocking   // the chat template and tokenizing run here, off the event loop
    @Operation(operationId = "createChatCompletion", summary = "Answers a conversation", description = "The messages go through the model's chat template. "
            + "With stream: true the body is server-sent events of chunks ending in data: [DONE].")
    @APIResponse(responseCode = "200", description = "The chat completion, or its stream", headers = @Header(name = Inference.TIER_HEADER,
            description = Inference.TIER_DESCRIPTION, schema = @Schema(type = SchemaType.STRING, enumeration = {"engine", "host", "store"})),
            content = {
        @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ChatCompletionResponse.class)),
        @Content(mediaType = MediaType.SERVER_SENT_EVENTS, schema = @Schema(implementation = ChatCompletionChunk.class))})
    @APIResponse(responseCode = "400", ref = "InvalidRequest")
    @APIResponse(responseCode = "404", ref = "ModelNotFound")
    @APIResponse(responseCode = "413", ref = "RequestTooLarge")
    @APIResponse(responseCode = "429", ref = "QueueFull")
    @APIResponse(responseCode = "503", ref = "Unavailable")
    @APIResponse(responseCode = "504", ref = "Timeout")
    public RestMulti<String> chat(ChatCompletionRequest r) {
        if (r == null) {
            throw new InvalidRequestException(null, "the request body must be a JSON object");
        }
        RequestReader.refuse(r.logitBias() != null && !r.logitBias().isEmpty(), "logit_bias", "no logit bias");
        Tools tools = Tools.read(r.tools(), r.toolChoice());
        io.tessera.engine.structured.Schema format = ResponseFormat.read(r.responseFormat());
        boolean mayCall = tools != null && tools.mayCall();
        RequestReader.refuse(mayCall && format != null, ResponseFormat.FIELD, "together with tools, unless tool_choice is none");
        List<ChatMessage> messages = messages(r.messages());
        boolean logprobs = Boolean.TRUE.equals(r.logprobs());
        if (r.topLogprobs() != null && !logprobs) {
            throw new InvalidRequestException("top_logprobs", "top_logprobs needs logprobs: true");
        }
        String field = r.maxCompletionTokens() != null ? "max_completion_tokens" : "max_tokens";
        Integer asked = r.maxCompletionTokens() != null ? r.maxCompletionTokens() : r.maxTokens();
        TokenTexts texts = logprobs ? new TokenTexts(inference.host().tokenizer()) : null;
        return inference.respond(r, mayCall ? tools.output() : format, new ChatFormat(r.model(), texts, mayCall),
                host -> prompt(messages, tools, host), (promptTokens, attention, limit, maxNew) ->
                        RequestReader.params(r, asked != null ? asked : defaultMaxTokens(promptTokens, attention, limit, maxNew),
                                field, maxNew, logprobs, r.topLogprobs() == null ? 0 : r.topLogprobs()));
    }

    /**
     * Without max_tokens a chat may use the rest of the context (OpenAI, vLLM); under LM-Infinite, which has no
     * context limit, up to the model's trained length; never more than the server's max-new-tokens.
     */
    static int defaultMaxTokens(int promptTokens, AttentionPolicy attention, int limit, int maxNewTokens) {
        int room = attention instanceof AttentionPolicy.LmInfinite ? limit : Math.max(1, limit - promptTokens);
        return Math.min(room, maxNewTokens);
    }

    private static int[] prompt(List<ChatMessage> messages, Tools tools, ModelHost host) {
        // the rendered template carries its own special tokens
        String text = host.chatTemplate().render(messages, true, tools == null ? null : tools.specs());
        return host.tokenizer().encode(text, false);
    }

    private static List<ChatMessage> messages(List<ChatMessageIn> in) {
        if (in == null || in.isEmpty()) {
            throw new InvalidRequestException("messages", "messages must be a non-empty list");
        }
        List<ChatMessage> out = new ArrayList<>(in.size());
        for (int i = 0; i < in.size(); i++) {
            ChatMessageIn m = in.get(i);
            String at = "messages[" + i + "]";
            if (m == null || m.role() == null) {
                throw new InvalidRequestException(at + ".role", at + ".role is required");
            }
            if (!ROLES.contains(m.role())) {
                throw new InvalidRequestException(at + ".role", at + ".role must be one of " + ROLES + ", got "
                        + InvalidRequestException.quote(m.role()));
            }
            out.add(new ChatMessage(m.role(), content(m.content(), at + ".content"), toolFields(m, at)));
        }
        return out;
    }

    /** Hugging Face's tool fields of a turn: an assistant's tool_calls (arguments as objects), a tool's call id. */
    private static Map<String, Object> toolFields(ChatMessageIn m, String at) {
        Map<String, Object> extra = new HashMap<>();
        if (m.role().equals("tool")) {
            if (m.toolCallId() == null) {
                throw new InvalidRequestException(at + ".tool_call_id", at + ".tool_call_id is required in a tool turn");
            }
            extra.put("tool_call_id", m.toolCallId());
        }
        if (m.name() != null) {
            extra.put("name", m.name());
        }
        if (m.toolCalls() != null && !m.toolCalls().isNull()) {
            if (!m.role().equals("assistant") || !m.toolCalls().isArray()) {
                throw new InvalidRequestException(at + ".tool_calls", at + ".tool_calls must be a list in an assistant turn");
            }
            List<Object> calls = new ArrayList<>();
            for (JsonNode call : m.toolCalls()) {
                Map<String, Object> c = JSON.convertValue(call, MAP);
                JsonNode args = call.path("function").path("arguments");
                if (args.isTextual() && c.get("function") instanceof Map<?, ?> f) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> function = new HashMap<>((Map<String, Object>) f);
                    function.put("arguments", parsedOrText(args.asText()));
                    c.put("function", function);
                }
                calls.add(c);
            }
            extra.put("tool_calls", calls);
        }
        return extra;
    }

    private static final com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>> MAP = new com.fasterxml.jackson.core.type.TypeReference<>() {
    };
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Arguments as templates expect them: an object where the string parses as one. */
    private static Object parsedOrText(String arguments) {
        try {
            return JSON.readValue(arguments, MAP);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return arguments;
        }
    }

    /** A string, or text parts joined (the only part type a text model takes). */
    private static String content(JsonNode c, String at) {
        if (c == null || c.isNull()) {
            return "";
        }
        if (c.isTextual()) {
            return c.asText();
        }
        if (c.isArray()) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < c.size(); i++) {
                JsonNode part = c.get(i);
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw new InvalidRequestException(at, at + ": only {\"type\": \"text\", \"text\": ...} parts are supported");
                }
                // read as a tree, so unknown keys (cache_control, ...) are refused here, as the records refuse theirs
                for (var fields = part.fields(); fields.hasNext(); ) {
                    var f = fields.next();
                    if (!PART_FIELDS.contains(f.getKey()) && !f.getValue().isNull()) {
                        String param = at + "[" + i + "]." + f.getKey();
                        throw new InvalidRequestException(param, InvalidRequestException.quote(param)
                                + " is not a field Tessera implements here: a part is {\"type\": \"text\", \"text\": ...}");
                    }
                }
                text.append(part.get("text").asText());
            }
            return text.toString();
        }
        throw new InvalidRequestException(at, at + " must be a string or a list of text parts");
    }
}
