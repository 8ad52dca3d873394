package io.tessera.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.engine.EngineOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The golden fixtures (testdata/fixtures/README.md) and the DePT set (testdata/fixtures-dept), each case alone and
 * all cases of a model in one batch.
 */
class ConformanceTest {

    @ParameterizedTest(name = "{0} batch={1}")
    @CsvSource({"testdata/fixtures, false, 18", "testdata/fixtures, true, 18",
                "testdata/fixtures-dept, false, 4", "testdata/fixtures-dept, true, 4"})
    void everyGoldenCasePasses(Path dir, boolean batch, int cases) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        List<VerifyFixtures.Result> results;
        try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            results = VerifyFixtures.run(dir, batch, EngineOptions.Device.CPU, out);
        }
        assertThat(results).hasSize(cases);
        assertThat(results).allSatisfy(r -> assertThat(r.pass()).as(r.line()).isTrue());
        // the goldens are float64; float32 compute lands near 1e-5, far inside the 1e-3 tolerance
        assertThat(results).allSatisfy(r -> assertThat(r.maxAbs()).as(r.id()).isLessThan(1e-4));
        List<String> lines = buf.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSize(cases + 1).last().isEqualTo(cases + " passed, 0 failed");
    }
}
