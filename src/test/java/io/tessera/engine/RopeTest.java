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

    private static float[] rope(NDManager m, Rope rope, NDArray x, long... positions) {
        return rope.apply(x, rope.rotated(x), rope.tables(m, positions)).toFloatArray();
    }

    @Test
    void rotatesPairsHalfSplitAtEachRowsPosition() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            // tables start with 2 positions: position 3 makes them grow
            Rope rope = new Rope(m, 4, 10000, 2, DataType.FLOAT32, new Rope.Heads(0, 1, 0, 1f));
            // two tokens, one head each, both x = [1, 2, 3, 4]: pairs (x0, x2) at angle p and (x1, x3) at angle p/100
            NDArray x = m.create(new float[] {1, 2, 3, 4, 1, 2, 3, 4}, new Shape(2, 1, 4));
            assertThat(rope(m, rope, x, 1, 3)).containsExactly(new float[] {
                // p = 1: [1 cos1 - 3 sin1, 2 cos.01 - 4 sin.01, 3 cos1 + 1 sin1, 4 cos.01 + 2 sin.01]
                -1.9841106f, 1.9599007f, 2.4623779f, 4.0197997f,
                // p = 3: [1 cos3 - 3 sin3, 2 cos.03 - 4 sin.03, 3 cos3 + 1 sin3, 4 cos.03 + 2 sin.03]
                -1.4133525f, 1.8791181f, -2.8288575f, 4.0581911f}, within(1e-6f));
        }
    }

    @Test
    void positionZeroIsTheIdentity() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            Rope rope = new Rope(m, 4, 10000, 8, DataType.FLOAT32, new Rope.Heads(0, 1, 0, 1f));
            NDArray x = m.create(new float[] {1, 2, 3, 4}, new Shape(1, 1, 4));
            assertThat(rope(m, rope, x, 0)).containsExactly(1, 2, 3, 4);
        }
    }

    @Test
    void scalesQueryHeadsAndPassesValueHeadsThrough() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            // heads q, k, v of one token at position 1: q rotated and halved, k rotated, v unchanged
            Rope rope = new Rope(m, 4, 10000, 8, DataType.FLOAT32, new Rope.Heads(1, 1, 1, 0.5f));
            NDArray x = m.create(new float[] {1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4}, new Shape(1, 3, 4));
            assertThat(rope(m, rope, x, 1)).containsExactly(new float[] {
                -0.9920553f, 0.97995035f, 1.23118895f, 2.00989985f,
                -1.9841106f, 1.9599007f, 2.4623779f, 4.0197997f,
                1, 2, 3, 4}, within(1e-6f));
        }
    }
}
