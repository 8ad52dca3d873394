package io.tessera.engine.safetensors;

import java.util.Arrays;

/** One tensor's header entry; begin/end are byte offsets into the data section. */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
    public long elements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
