package io.tessera.engine.adapter;

import io.tessera.engine.Checkpoint;
import io.tessera.engine.DecoderModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Reads a PEFT adapter directory ({@code adapter_config.json} + {@code adapter_model.safetensors}) and hands it to
 * the parser of the kind its {@code peft_type} names, which checks it against the base model. Everything that cannot
 * be served exactly is refused with the reason; an adapter never silently becomes the base model. Pure I/O and
 * validation: safe to run off the engine thread.
 */
public final class AdapterLoader {
    private static final Set<String> PICKLE_SUFFIXES = Set.of(".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt");
    /** A PEFT adapter_config.json is a few kilobytes; one this large is an attack on memory. */
    public static final long DEFAULT_MAX_CONFIG_BYTES = 1 << 20;

    private final DecoderModel model;
    private final long maxConfigBytes;

    public AdapterLoader(DecoderModel model) {
        this(model, DEFAULT_MAX_CONFIG_BYTES);
    }

    /** @param maxConfigBytes adapter_config.json larger than this is refused before it is read */
    public AdapterLoader(DecoderModel model, long maxConfigBytes) {
        if (maxConfigBytes < 2 || maxConfigBytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("maxConfigBytes " + maxConfigBytes + " is outside 2.." + (Integer.MAX_VALUE - 8));
        }
        this.model = model;
        this.maxConfigBytes = maxConfigBytes;
    }

    public Adapter load(Path dir) {
        refusePickles(dir);
        AdapterConfig config = AdapterConfig.read(dir, maxConfigBytes);
        String type = config.peftType();
        Path weights = dir.resolve("adapter_model.safetensors");
        if (!Files.isRegularFile(weights)) {
            throw new AdapterException(weights + ": file not found");
        }
        Adapter.Parser parser = Arrays.stream(Adapter.Kind.values())
                .filter(k -> k.parser != null && k.name().equals(type.toUpperCase(Locale.ROOT)))
                .map(k -> k.parser).findFirst()
                .orElseThrow(() -> new AdapterException(config.file() + ": unsupported peft_type '" + type + "' (supported: "
                        + Arrays.stream(Adapter.Kind.values()).filter(k -> k.parser != null).map(Adapter.Kind::name)
                        .collect(Collectors.joining(", ")) + ")"));
        try (Checkpoint cp = Checkpoint.openFile(weights)) {
            return parser.parse(new AdapterSource(config, weights, cp, model));
        }
    }

    private static void refusePickles(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new AdapterException(dir + ": adapter directory not found");
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
                if (PICKLE_SUFFIXES.stream().anyMatch(name::endsWith)) {
                    throw new AdapterException(f + ": pickle files are never loaded (unsafe); save the adapter as adapter_model.safetensors");
                }
            }
        } catch (IOException e) {
            throw new AdapterException(dir + ": cannot list (" + e.getMessage() + ")");
        }
    }

    /** Text from an upload or a request as a message may quote it: one line, at most 120 characters. */
    public static String brief(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(120)
                .forEach(c -> b.append(Character.isISOControl(c) ? String.format("\\u%04x", c) : Character.toString(c)));
        return s.codePointCount(0, s.length()) > 120 ? b + "..." : b.toString();
    }
}
