package io.tessera.cli;

import static io.tessera.TestSupport.FIXTURES;
import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.engine.EngineOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The golden fixtures (testdata/fixtures/README.md), each case alone and all cases of a model in one batch. */
class ConformanceTest {

    @ParameterizedTest(name = "batch={0}")
    @ValueSource(booleans = {false, true})
    void everyGoldenCasePasses(boolean batch) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        List<VerifyFixtures.Result> results;
        try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            results = VerifyFixtures.run(FIXTURES, batch, EngineOptions.Device.CPU, out);
        }
        assertThat(results).hasSize(18);
        assertThat(results).allSatisfy(r -> assertThat(r.pass()).as(r.line()).isTrue());
        // the goldens are float64; float32 compute lands near 1e-5, far inside the 1e-3 tolerance
        assertThat(results).allSatisfy(r -> assertThat(r.maxAbs()).as(r.id()).isLessThan(1e-4));
        List<String> lines = buf.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSize(19).last().isEqualTo("18 passed, 0 failed");
    }
}
