package io.tessera.adapters;

import static io.tessera.persistence.RegistryException.Problem.REJECTED;
import static io.tessera.persistence.RegistryException.Problem.TOO_LARGE;

import io.tessera.engine.DecoderModel;
import io.tessera.engine.adapter.Adapter;
import io.tessera.engine.adapter.AdapterConfig;
import io.tessera.engine.adapter.AdapterLoader;
import io.tessera.engine.adapter.Description;
import io.tessera.engine.safetensors.CheckpointException;
import io.tessera.engine.safetensors.SizeLimitException;
import io.tessera.persistence.RegistryException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Checks an unpacked adapter against the resident base model with the engine's own loader (safetensors layout,
 * peft_type, targets, shapes, NaN/Inf, pickles) and describes it for the registry.
 */
public final class AdapterInspector {

    /** @param description what the adapter's kind says of it, as the registry records it */
    public record Inspected(Adapter adapter, Description description) {
    }

    private final AdapterLoader loader;

    /** @param maxConfigBytes largest adapter_config.json read */
    public AdapterInspector(DecoderModel model, long maxConfigBytes) {
        this.loader = new AdapterLoader(model, maxConfigBytes);
    }

    /** The adapter directory inside an unpacked archive: its root, or the one directory that is all it holds. */
    public static Path adapterDir(Path root) throws IOException {
        if (Files.exists(root.resolve(AdapterConfig.FILE))) {
            return root;
        }
        try (Stream<Path> s = Files.list(root)) {
            List<Path> all = s.toList();
            if (all.size() == 1 && Files.isDirectory(all.get(0))
                    && Files.exists(all.get(0).resolve(AdapterConfig.FILE))) {
                return all.get(0);
            }
        }
        throw new RegistryException(REJECTED, "archive has no adapter_config.json at its root or in its one top directory");
    }

    /** Loads and checks; a refusal is a {@link RegistryException} whose message names files relative to {@code root}. */
    public Inspected inspect(Path root, Path dir) {
        Adapter a;
        try {
            a = loader.load(dir);
        } catch (CheckpointException e) {
            // the loader names files by path: show them as the archive names them, not where they were unpacked
            throw new RegistryException(e instanceof SizeLimitException ? TOO_LARGE : REJECTED, e.getMessage().replace(root + "/", ""));
        }
        return new Inspected(a, a.describe());
    }

}
