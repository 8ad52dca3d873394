package io.tessera.engine.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.engine.Checkpoint;
import io.tessera.engine.DecoderModel;
import io.tessera.engine.safetensors.TensorInfo;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * An opened adapter directory as a kind's parser sees it: the config, the weights and the base model they must fit.
 *
 * @param weights the safetensors file, for messages
 */
public record AdapterSource(AdapterConfig config, Path weights, Checkpoint checkpoint, DecoderModel model) {

    public Path configFile() {
        return config.file();
    }

    public JsonNode json() {
        return config.json();
    }

    /** A refusal naming the config file. */
    public AdapterException badConfig(String problem) {
        return new AdapterException(config.file() + ": " + problem);
    }

    /** A refusal naming the weights file. */
    public AdapterException badWeights(String problem) {
        return new AdapterException(weights + ": " + problem);
    }

    /** A tensor that must exist with exactly this shape and hold only finite values. */
    public float[] tensor(String name, long... shape) {
        if (!checkpoint.has(name)) {
            throw badWeights("missing tensor " + name);
        }
        TensorInfo t = checkpoint.info(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw badWeights("tensor " + name + " has shape " + t.shapeString() + " but the base model needs " + Arrays.toString(shape));
        }
        return finite(name, checkpoint.read(name, shape));
    }

    /** {@code v}, refused when it holds NaN or Inf. */
    public float[] finite(String name, float[] v) {
        for (float f : v) {
            if (!Float.isFinite(f)) {
                throw badWeights("tensor " + name + " contains NaN or Inf");
            }
        }
        return v;
    }
}
