package io.tessera.runtime;

import io.tessera.engine.adapter.AdapterConfig;
import io.tessera.engine.adapter.AdapterLoader;
import io.tessera.engine.safetensors.CheckpointException;
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
public record AdapterRef(String name, int version, String key, Path dir, int virtualTokens) {
    /** An adapter directory outside the registry (the command line's --adapter), keyed by its path. */
    public static Optional<AdapterRef> fromDirectory(Path dir) {
        if (!Files.isRegularFile(dir.resolve(AdapterConfig.FILE))) {
            return Optional.empty();
        }
        int virtual = 0;
        try {
            virtual = AdapterConfig.read(dir, AdapterLoader.DEFAULT_MAX_CONFIG_BYTES).virtualTokens();
        } catch (CheckpointException e) {
            // unreadable here means refused at load, with the loader's message
        }
        return Optional.of(new AdapterRef(dir.getFileName().toString(), 1, dir.toAbsolutePath().normalize().toString(),
                dir, virtual));
    }
}
