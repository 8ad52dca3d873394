package io.tessera.engine.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.engine.safetensors.SizeLimitException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/**
 * A PEFT {@code adapter_config.json}, read in one place: bounded in size, a JSON object or refused.
 *
 * @param file where it was read from (messages name it)
 * @param json its fields; the kind's loader checks the ones it uses
 */
public record AdapterConfig(Path file, JsonNode json) {
    public static final String FILE = "adapter_config.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads {@code dir}'s config; larger than {@code maxBytes} is a {@link SizeLimitException}, anything else wrong an {@link AdapterException}. */
    public static AdapterConfig read(Path dir, long maxBytes) {
        Path file = dir.resolve(FILE);
        try {
            byte[] bytes;
            try (InputStream in = Files.newInputStream(file)) {
                bytes = in.readNBytes((int) maxBytes + 1);
            }
            if (bytes.length > maxBytes) {
                throw new SizeLimitException(file + ": larger than the limit of " + maxBytes + " bytes for " + FILE);
            }
            JsonNode n = JSON.readTree(bytes);
            if (n == null || !n.isObject()) {
                throw new AdapterException(file + ": not a JSON object");
            }
            return new AdapterConfig(file, n);
        } catch (NoSuchFileException e) {
            throw new AdapterException(file + ": file not found");
        } catch (IOException e) {
            throw new AdapterException(file + ": not valid JSON");
        }
    }

    /** As written ("" when absent); kinds compare it ignoring case. */
    public String peftType() {
        return json.path("peft_type").asText("");
    }

    /** Soft-prompt tokens prepended to every prompt (prompt tuning, DePT); 0 for other kinds. */
    public int virtualTokens() {
        boolean prompted = peftType().equalsIgnoreCase(Adapter.Kind.PROMPT_TUNING.name())
                || peftType().equalsIgnoreCase(Adapter.Kind.PROMPT_TUNING_LORA.name());
        return prompted ? json.path("num_virtual_tokens").asInt(0) : 0;
    }

    /** target_modules as the registry shows it: a list sorted and comma-joined, a single pattern as is. */
    public String targetModules() {
        JsonNode t = json.path("target_modules");
        if (t.isArray()) {
            return StreamSupport.stream(t.spliterator(), false).map(JsonNode::asText).sorted().collect(Collectors.joining(","));
        }
        return t.asText();
    }
}
