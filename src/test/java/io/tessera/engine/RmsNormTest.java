package io.tessera.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** RMSNorm w * x / sqrt(mean(x²) + eps), per row, against values worked out by hand. */
class RmsNormTest {

    @Test
    void normalisesEachRowAndScalesByTheWeight() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray x = m.create(new float[] {1, 2, 3, 4, 1e-3f, -1e-3f, 1e-3f, -1e-3f}, new Shape(2, 4));
                        NDArray y = new RmsNorm(m, new float[] {1, 1, 2, 0.5f}, 1e-5, DataType.FLOAT32).apply(x);
            assertThat(y.getShape()).isEqualTo(new Shape(2, 4));
            assertThat(y.toFloatArray()).containsExactly(new float[] {
                // mean(x²) = 7.5, sqrt(7.5 + 1e-5) = 2.7386146: x / 2.7386146 * w
                0.36514813f, 0.73029626f, 2.1908888f, 0.73029626f,
                // mean(x²) = 1e-6 is smaller than eps: sqrt(1.1e-5) = 0.0033166248, so |x| / rms = 0.30151134, not 1
                0.30151134f, -0.30151134f, 0.60302269f, -0.15075567f}, within(1e-6f));
        }
    }
}
