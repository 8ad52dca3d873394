package io.tessera.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the server needs from tokenizer_config.json, generation_config.json and config.json. Each
 * file is optional; a token a model does not configure is null.
 *
 * @param eosToken tokenizer_config eos_token
 * @param padToken tokenizer_config pad_token
 * @param chatTemplate tokenizer_config chat_template (the "default" one of a named list), else
 *     chat_template.jinja
 * @param eosTokenIds ids that end generation: generation_config and config eos_token_id (int or
 *     list) and the id of eosToken
 * @param padTokenId id of padToken, else generation_config, else config pad_token_id
 * @param modelMaxLength tokenizer_config model_max_length, Integer.MAX_VALUE when unset or larger
 * @param bosToken tokenizer_config bos_token, for chat templates that start with it
 */
public record TokenizerSettings(
        String eosToken,
        String padToken,
        Optional<String> chatTemplate,
        Set<Integer> eosTokenIds,
        OptionalInt padTokenId,
        int modelMaxLength,
        String bosToken) {

    public TokenizerSettings {
        Objects.requireNonNull(chatTemplate, "chatTemplate");
        Objects.requireNonNull(padTokenId, "padTokenId");
        eosTokenIds = Collections.unmodifiableSet(new TreeSet<>(eosTokenIds));
    }

    /** The original six-component form, without a BOS token. */
    public TokenizerSettings(String eosToken, String padToken, Optional<String> chatTemplate,
            Set<Integer> eosTokenIds, OptionalInt padTokenId, int modelMaxLength) {
        this(eosToken, padToken, chatTemplate, eosTokenIds, padTokenId, modelMaxLength, null);
    }

    public static TokenizerSettings load(Path modelDir, TextTokenizer tok) {
        JsonNode tokenizerConfig = readOptional(modelDir.resolve("tokenizer_config.json"));
        JsonNode generationConfig = readOptional(modelDir.resolve("generation_config.json"));
        JsonNode config = readOptional(modelDir.resolve("config.json"));

        String eosToken = tokenContent(tokenizerConfig.path("eos_token"));
        String padToken = tokenContent(tokenizerConfig.path("pad_token"));
        String bosToken = tokenContent(tokenizerConfig.path("bos_token"));

        Set<Integer> eosIds = new TreeSet<>();
        addIds(generationConfig.path("eos_token_id"), eosIds);
        addIds(config.path("eos_token_id"), eosIds);
        if (eosToken != null) {
            tok.tokenId(eosToken).ifPresent(eosIds::add);
        }

        OptionalInt padId = padToken == null ? OptionalInt.empty() : tok.tokenId(padToken);
        if (padId.isEmpty()) {
            padId = firstInt(generationConfig.path("pad_token_id"), config.path("pad_token_id"));
        }

        return new TokenizerSettings(eosToken, padToken, chatTemplate(modelDir, tokenizerConfig), eosIds,
                padId, maxLength(tokenizerConfig.path("model_max_length")), bosToken);
    }

    private static JsonNode readOptional(Path file) {
        if (!Files.exists(file)) {
            return MissingNode.getInstance();
        }
        return JsonFiles.read(file);
    }

    /** A special token is a string or a serialized AddedToken {"content": ...}. */
    private static String tokenContent(JsonNode node) {
        if (node.isTextual()) {
            return node.asText();
        }
        JsonNode content = node.path("content");
        return content.isTextual() ? content.asText() : null;
    }

    private static void addIds(JsonNode node, Set<Integer> into) {
        if (node.isIntegralNumber()) {
            into.add(node.asInt());
        } else if (node.isArray()) {
            node.forEach(id -> addIds(id, into));
        }
    }

    private static OptionalInt firstInt(JsonNode... nodes) {
        for (JsonNode node : nodes) {
            if (node.isIntegralNumber()) {
                return OptionalInt.of(node.asInt());
            }
        }
        return OptionalInt.empty();
    }

    private static Optional<String> chatTemplate(Path modelDir, JsonNode tokenizerConfig) {
        JsonNode template = tokenizerConfig.path("chat_template");
        if (template.isTextual()) {
            return Optional.of(template.asText());
        }
        // several named templates: [{"name": "default", "template": ...}, {"name": "tool_use", ...}]
        for (JsonNode named : template) {
            if ("default".equals(named.path("name").asText())) {
                return Optional.of(named.path("template").asText());
            }
        }
        // newer transformers save the template beside tokenizer_config.json
        Path jinja = modelDir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            try {
                return Optional.of(Files.readString(jinja));
            } catch (IOException e) {
                throw new TokenizerException(jinja + ": cannot read: " + e.getMessage(), e);
            }
        }
        return Optional.empty();
    }

    /** transformers writes "no limit" as int(1e30), far beyond an int. */
    private static int maxLength(JsonNode node) {
        if (!node.isNumber()) {
            return Integer.MAX_VALUE;
        }
        BigInteger value = node.bigIntegerValue();
        return value.compareTo(BigInteger.valueOf(Integer.MAX_VALUE)) > 0 ? Integer.MAX_VALUE : value.intValueExact();
    }
}
