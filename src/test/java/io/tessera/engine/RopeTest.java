package io.tessera.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** Half-split RoPE against values worked out by hand: head dim 4, theta 10000, so inv_freq = [1, 0.01]. */
class RopeTest {

    @Test
    void rotatesPairsHalfSplitAtEachRowsPosition() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            // tables start with 2 positions: position 3 makes them grow
            Rope rope = new Rope(m, 4, 10000, 2, DataType.FLOAT32);
            // two tokens, one head each, both x = [1, 2, 3, 4]: pairs (x0, x2) at angle p and (x1, x3) at angle p/100
            NDArray x = m.create(new float[] {1, 2, 3, 4, 1, 2, 3, 4}, new Shape(2, 1, 4));
            float[] y = rope.apply(x, rope.tables(m, new long[] {1, 3})).toFloatArray();
            assertThat(y).containsExactly(new float[] {
                // p = 1: [1 cos1 - 3 sin1, 2 cos.01 - 4 sin.01, 3 cos1 + 1 sin1, 4 cos.01 + 2 sin.01]
                -1.9841106f, 1.9599007f, 2.4623779f, 4.0197997f,
                // p = 3: [1 cos3 - 3 sin3, 2 cos.03 - 4 sin.03, 3 cos3 + 1 sin3, 4 cos.03 + 2 sin.03]
                -1.4133525f, 1.8791181f, -2.8288575f, 4.0581911f}, within(1e-6f));
        }
    }

    @Test
    void positionZeroIsTheIdentity() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            Rope rope = new Rope(m, 4, 10000, 8, DataType.FLOAT32);
            NDArray x = m.create(new float[] {1, 2, 3, 4}, new Shape(1, 1, 4));
            assertThat(rope.apply(x, rope.tables(m, new long[] {0})).toFloatArray()).containsExactly(1, 2, 3, 4);
        }
    }
}
