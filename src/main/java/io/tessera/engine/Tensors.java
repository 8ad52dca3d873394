package io.tessera.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** Host floats to long-lived arrays of the engine's dtype. */
public final class Tensors {
    /**
     * A [shape] array of {@code dtype} in {@code manager}. On a float16 device the float32 staging array is closed
     * here: left in a long-lived manager it would stay as long as the weights do.
     */
    public static NDArray create(NDManager manager, float[] data, Shape shape, DataType dtype) {
        NDArray staged = manager.create(data, shape);
        if (staged.getDataType() == dtype) {
            return staged;
        }
        try (staged) {
            return staged.toType(dtype, false);
        }
    }

    private Tensors() {
    }
}
