package io.tessera.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.engine.safetensors.CheckpointException;
import io.tessera.engine.safetensors.SafetensorsFile;
import io.tessera.engine.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The weights of a model directory: {@code model.safetensors}, or the shards named by
 * {@code model.safetensors.index.json}. Every shard is opened (and so validated) up front.
 */
public final class Checkpoint implements Weights {
    private final Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
    private final Map<Path, SafetensorsFile> files = new LinkedHashMap<>();

    private Checkpoint() {
    }

    public static Checkpoint open(Path modelDir) {
        Checkpoint cp = new Checkpoint();
        try {
            Path single = modelDir.resolve("model.safetensors");
            Path index = modelDir.resolve("model.safetensors.index.json");
            if (Files.exists(single)) {
                SafetensorsFile f = cp.file(single);
                f.tensors().keySet().forEach(name -> cp.byTensor.put(name, f));
            } else if (Files.exists(index)) {
                cp.openShards(modelDir, index);
            } else if (Files.exists(modelDir.resolve("pytorch_model.bin"))) {
                throw new CheckpointException(modelDir.resolve("pytorch_model.bin")
                        + ": pickle checkpoints are never loaded; convert the model to safetensors");
            } else {
                throw new CheckpointException(single + ": file not found (nor model.safetensors.index.json)");
            }
            return cp;
        } catch (RuntimeException e) {
            cp.close();
            throw e;
        }
    }

    /** A single adapter or weights file, outside the HF model layout. */
    public static Checkpoint openFile(Path file) {
        Checkpoint cp = new Checkpoint();
        SafetensorsFile f = cp.file(file);
        f.tensors().keySet().forEach(name -> cp.byTensor.put(name, f));
        return cp;
    }

    private void openShards(Path modelDir, Path index) {
        JsonNode map;
        try {
            map = new ObjectMapper().readTree(Files.readString(index)).get("weight_map");
        } catch (IOException e) {
            throw new CheckpointException(index + ": not valid JSON");
        }
        if (map == null || !map.isObject()) {
            throw new CheckpointException(index + ": no weight_map object");
        }
        Map<String, String> shardOf = new HashMap<>();
        map.fields().forEachRemaining(e -> shardOf.put(e.getKey(), e.getValue().asText()));
        for (Map.Entry<String, String> e : shardOf.entrySet()) {
            Path shard = modelDir.resolve(e.getValue()).normalize();
            if (!shard.startsWith(modelDir.normalize()) || shard.getFileName().toString().contains("/")) {
                throw new CheckpointException(index + ": shard path " + e.getValue() + " leaves the model directory");
            }
            SafetensorsFile f = file(shard);
            if (!f.has(e.getKey())) {
                throw new CheckpointException(shard + ": missing tensor " + e.getKey() + " (listed in " + index.getFileName() + ")");
            }
            byTensor.put(e.getKey(), f);
        }
    }

    private SafetensorsFile file(Path p) {
        return files.computeIfAbsent(p, SafetensorsFile::open);
    }

    @Override
    public boolean has(String name) {
        return byTensor.containsKey(name);
    }

    public Set<String> names() {
        return byTensor.keySet();
    }

    public TensorInfo info(String name) {
        return source(name).info(name);
    }

    private SafetensorsFile source(String name) {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) {
            Path where = files.isEmpty() ? Path.of("model.safetensors") : files.keySet().iterator().next();
            throw new CheckpointException(where + ": missing tensor " + name);
        }
        return f;
    }

    @Override
    public float[] read(String name, long... expectedShape) {
        SafetensorsFile f = source(name);
        TensorInfo t = f.info(name);
        if (!Arrays.equals(t.shape(), expectedShape)) {
            throw new CheckpointException(f.path() + ": tensor " + name + " has shape " + t.shapeString()
                    + " but config.json implies " + Arrays.toString(expectedShape));
        }
        return f.readFloats(name);
    }

    @Override
    public void close() {
        files.values().forEach(SafetensorsFile::close);
    }
}
