package io.tessera.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.api.ChatCompletionChunk.ChunkChoice;
import io.tessera.api.ChatCompletionChunk.Delta;
import io.tessera.api.ChatCompletionResponse.ChatChoice;
import io.tessera.api.ChatCompletionResponse.ChatLogprobs;
import io.tessera.api.ChatCompletionResponse.ChatMessageOut;
import io.tessera.api.ChatCompletionResponse.FunctionCall;
import io.tessera.api.ChatCompletionResponse.TokenLogprob;
import io.tessera.api.ChatCompletionResponse.ToolCall;
import io.tessera.scheduler.FinishReason;
import io.tessera.scheduler.Generation;
import io.tessera.scheduler.GenerationListener.Finished;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** {@code chat.completion} and {@code chat.completion.chunk} objects; the first chunk carries the role. */
final class ChatFormat implements EventBody.Format {
    private static final String ROLE = "assistant";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
    private final long created = Instant.now().getEpochSecond();
    private final String model;
    /** null when logprobs were not asked for. */
    private final TokenTexts texts;
    /** Whether the output may be a tool call: text is held back while it may still turn out to be one. */
    private final boolean mayCall;
    private boolean roleSent;
    /** Streamed text held back: blanks before the first character, or the whole of a call. */
    private final StringBuilder held = new StringBuilder();
    /** Once decided: whether the output is a call. Null while only blanks came. */
    private Boolean calling;

    ChatFormat(String model, TokenTexts texts, boolean mayCall) {
        this.model = model;
        this.texts = texts;
        this.mayCall = mayCall;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public Object response(List<Generation.Token> tokens, Finished finished) {
        StringBuilder text = new StringBuilder();
        tokens.forEach(t -> text.append(t.text()));
        ToolCall call = call(text.toString(), finished);
        ChatMessageOut message = call == null ? new ChatMessageOut(ROLE, text.toString(), null)
                : new ChatMessageOut(ROLE, null, List.of(call));
        return new ChatCompletionResponse(id, "chat.completion", created, model,
                List.of(new ChatChoice(0, message, logprobs(tokens), reason(call, finished))), Usage.of(finished));
    }

    @Override
    public void chunks(Generation.Token token, List<Object> out) {
        if (!roleSent) {
            roleSent = true;
            out.add(chunk(new Delta(ROLE, ""), null, null));
        }
        ChatLogprobs lp = logprobs(List.of(token));
        String text = token.text();
        if (mayCall && !Boolean.FALSE.equals(calling)) {
            held.append(text);
            if (calling == null && !held.toString().isBlank()) {
                calling = held.toString().strip().startsWith("{");
            }
            if (!Boolean.FALSE.equals(calling)) {
                return; // a call goes out whole at the end
            }
            text = held.toString();
            held.setLength(0);
        }
        if (!text.isEmpty() || lp != null && !lp.content().isEmpty()) {
            out.add(chunk(new Delta(null, text), lp, null));
        }
    }

    @Override
    public Object finish(Finished finished) {
        ToolCall call = Boolean.TRUE.equals(calling) ? call(held.toString(), finished) : null;
        if (call != null) {
            ToolCall delta = new ToolCall(0, call.id(), call.type(), call.function());
            return chunk(new Delta(null, null, List.of(delta)), null, reason(call, finished));
        }
        // text held back as a possible call that was cut short goes out as text
        return chunk(new Delta(null, held.isEmpty() ? null : held.toString()), null, finished.reason().openAi());
    }

    /** The tool call the output is, or null: text, or a call cut short by max_tokens. */
    private ToolCall call(String text, Finished finished) {
        if (!mayCall || finished.reason() != FinishReason.STOP || !text.strip().startsWith("{")) {
            return null;
        }
        try {
            JsonNode value = JSON.readTree(text);
            return new ToolCall(null, "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24), "function",
                    new FunctionCall(value.get("name").asText(), JSON.writeValueAsString(value.get("arguments"))));
        } catch (JsonProcessingException e) {
            // a stop string cut the call short
            return null;
        }
    }

    private static String reason(ToolCall call, Finished finished) {
        return call != null ? "tool_calls" : finished.reason().openAi();
    }

    @Override
    public Object usage(Finished finished) {
        return new ChatCompletionChunk(id, "chat.completion.chunk", created, model, List.of(), Usage.of(finished));
    }

    private ChatCompletionChunk chunk(Delta delta, ChatLogprobs logprobs, String finishReason) {
        return new ChatCompletionChunk(id, "chat.completion.chunk", created, model,
                List.of(new ChunkChoice(0, delta, logprobs, finishReason)), null);
    }

    private ChatLogprobs logprobs(List<Generation.Token> tokens) {
        if (texts == null) {
            return null;
        }
        List<TokenLogprob> content = new ArrayList<>(tokens.size());
        for (Generation.Token t : tokens) {
            if (TokenTexts.shown(t)) {
                content.add(texts.chat(t));
            }
        }
        return new ChatLogprobs(content);
    }
}
