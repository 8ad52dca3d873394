package io.tessera.adapters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Adapters as subdirectories of one directory, each named by its directory, all at version 1 and open to every
 * tenant (there are no tenants yet). Until the registry exists.
 */
public final class DirectoryAdapterCatalog implements AdapterCatalog {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;

    public DirectoryAdapterCatalog(Path root) {
        this.root = root;
    }

    @Override
    public Optional<AdapterRef> resolve(String tenant, String model) {
        // a name is one path segment: never a way out of the directory
        if (model == null || !NAME.matcher(model).matches()) {
            return Optional.empty();
        }
        return read(root.resolve(model));
    }

    @Override
    public List<AdapterRef> list(String tenant) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(d -> NAME.matcher(d.getFileName().toString()).matches())
                    .map(DirectoryAdapterCatalog::read).flatMap(Optional::stream)
                    .sorted(Comparator.comparing(AdapterRef::name)).toList();
        } catch (IOException e) {
            throw new IllegalStateException(root + ": cannot list adapters (" + e.getMessage() + ")", e);
        }
    }

    /** The adapter in {@code dir}, when it has an adapter_config.json; its weights are checked when it loads. */
    public static Optional<AdapterRef> read(Path dir) {
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
        return Optional.of(new AdapterRef(dir.getFileName().toString(), 1, dir, type, virtual));
    }
}
