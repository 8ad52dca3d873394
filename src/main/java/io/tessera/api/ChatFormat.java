package io.tessera.api;

import io.tessera.api.ChatCompletionChunk.ChunkChoice;
import io.tessera.api.ChatCompletionChunk.Delta;
import io.tessera.api.ChatCompletionResponse.ChatChoice;
import io.tessera.api.ChatCompletionResponse.ChatLogprobs;
import io.tessera.api.ChatCompletionResponse.ChatMessageOut;
import io.tessera.api.ChatCompletionResponse.TokenLogprob;
import io.tessera.scheduler.Generation;
import io.tessera.scheduler.GenerationListener.Finished;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** {@code chat.completion} and {@code chat.completion.chunk} objects; the first chunk carries the role. */
final class ChatFormat implements EventBody.Format {
    private static final String ROLE = "assistant";

    private final String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
    private final long created = Instant.now().getEpochSecond();
    private final String model;
    /** null when logprobs were not asked for. */
    private final TokenTexts texts;
    private boolean roleSent;

    ChatFormat(String model, TokenTexts texts) {
        this.model = model;
        this.texts = texts;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public Object response(List<Generation.Token> tokens, Finished finished) {
        StringBuilder text = new StringBuilder();
        tokens.forEach(t -> text.append(t.text()));
        return new ChatCompletionResponse(id, "chat.completion", created, model,
                List.of(new ChatChoice(0, new ChatMessageOut(ROLE, text.toString()), logprobs(tokens), finished.reason().openAi())),
                Usage.of(finished));
    }

    @Override
    public void chunks(Generation.Token token, List<Object> out) {
        if (!roleSent) {
            roleSent = true;
            out.add(chunk(new Delta(ROLE, ""), null, null));
        }
        ChatLogprobs lp = logprobs(List.of(token));
        if (!token.text().isEmpty() || lp != null && !lp.content().isEmpty()) {
            out.add(chunk(new Delta(null, token.text()), lp, null));
        }
    }

    @Override
    public Object finish(Finished finished) {
        return chunk(new Delta(null, null), null, finished.reason().openAi());
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
