package io.tessera.engine.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A Hugging Face {@code chat_template} rendered by jinjava, configured to behave like transformers'
 * Jinja environment: trim_blocks and lstrip_blocks on, {@code {{- -}}} whitespace control, Python
 * operator precedence ({@code a + b | trim} filters {@code b} only), and the {@code raise_exception}
 * helper. The template sees {@code messages}, {@code add_generation_prompt}, {@code bos_token} and
 * {@code eos_token}. Thread-safe.
 */
public final class ChatTemplate {

    /** Stateless between renders, so one engine serves every template. */
    private static final Jinjava JINJAVA = newJinjava();

    private final String template;
    private final String bosToken;
    private final String eosToken;

    /** A null or blank template means the model has none: fails with {@link ChatTemplateException}. */
    public ChatTemplate(String template, String bosToken, String eosToken) {
        if (template == null || template.isBlank()) {
            throw new ChatTemplateException("the model has no chat template (no chat_template in tokenizer_config.json, no chat_template.jinja)");
        }
        this.template = template;
        // an unset special token renders as "" (as in transformers), not as "null"
        this.bosToken = bosToken == null ? "" : bosToken;
        this.eosToken = eosToken == null ? "" : eosToken;
    }

    /** The model's template from its settings; fails with {@link ChatTemplateException} when it has none. */
    public static ChatTemplate of(TokenizerSettings settings) {
        return new ChatTemplate(settings.chatTemplate().orElse(null), settings.bosToken(), settings.eosToken());
    }

    private static Jinjava newJinjava() {
        LegacyOverrides python = LegacyOverrides.newBuilder()
                .withUseTrimmingForNotesAndExpressions(true)
                .withParseWhitespaceControlStrictly(true)
                .withUseNaturalOperatorPrecedence(true)
                .withUsePyishObjectMapper(true)
                .withKeepNullableLoopValues(true)
                .build();
        Jinjava jinjava = new Jinjava(JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withLegacyOverrides(python)
                .build());
        try {
            Method raise = RaisedByTemplate.class.getDeclaredMethod("raise", String.class);
            raise.setAccessible(true); // jinjava invokes it reflectively from its own package
            jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception", raise));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
        return jinjava;
    }

    /** Renders the conversation; {@code addGenerationPrompt} appends the assistant turn header. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, null);
    }

    /** As above, the template also seeing {@code tools} (Hugging Face's convention: a list of function specs). */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, List<?> tools) {
        List<Map<String, Object>> turns = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> turn = new HashMap<>(m.extra());
            turn.put("role", m.role());
            turn.put("content", m.content());
            turns.add(turn);
        }
        Map<String, Object> context = new HashMap<>();
        if (tools != null) {
            context.put("tools", tools);
        }
        context.put("messages", turns);
        context.put("add_generation_prompt", addGenerationPrompt);
        context.put("bos_token", bosToken);
        context.put("eos_token", eosToken);

        RenderResult result = JINJAVA.renderForResult(template, context);
        List<TemplateError> fatal = result.getErrors().stream()
                .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL)
                .toList();
        for (TemplateError error : fatal) {
            for (Throwable t = error.getException(); t != null; t = t.getCause()) {
                if (t instanceof RaisedByTemplate raised) {
                    throw new ChatTemplateException("chat template raised: " + raised.getMessage(), raised);
                }
            }
        }
        if (!fatal.isEmpty()) {
            throw new ChatTemplateException("chat template rendering failed: "
                    + fatal.stream().map(TemplateError::getMessage).collect(Collectors.joining("; ")));
        }
        return result.getOutput();
    }

    /** The template's own {@code raise_exception(msg)}; jinjava wraps it, render() unwraps it. */
    private static final class RaisedByTemplate extends RuntimeException {

        private RaisedByTemplate(String message) {
            super(message);
        }

        private static String raise(String message) {
            throw new RaisedByTemplate(message);
        }
    }
}
