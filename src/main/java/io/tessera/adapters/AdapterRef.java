package io.tessera.adapters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * An adapter a caller may use, as the catalog knows it.
 *
 * @param name          the model name clients send
 * @param version       versions are immutable: new weights get a new version
 * @param key           the adapter table's key: names one immutable (adapter, version) across all tenants
 * @param dir           the unpacked adapter directory
 * @param virtualTokens prompt-tuning tokens it prepends (0 for other kinds); they count against the context
 */
public record AdapterRef(String name, int version, String key, Path dir, String peftType, int virtualTokens) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** An adapter directory outside the registry (the command line's --adapter), keyed by its path. */
    public static Optional<AdapterRef> fromDirectory(Path dir) {
        Path config = dir.resolve("adapter_config.json");
        if (!Files.isRegularFile(config)) {
            return Optional.empty();
        }
        JsonNode c;
        try {
            c = JSON.readTree(config.toFile());
        } catch (IOException e) {
            // unreadable here means refused at load, with the loader's message
            c = JSON.createObjectNode();
        }
        String type = c.path("peft_type").asText("");
        int virtual = type.equalsIgnoreCase("PROMPT_TUNING") ? c.path("num_virtual_tokens").asInt(0) : 0;
        return Optional.of(new AdapterRef(dir.getFileName().toString(), 1, dir.toAbsolutePath().normalize().toString(),
                dir, type, virtual));
    }
}
