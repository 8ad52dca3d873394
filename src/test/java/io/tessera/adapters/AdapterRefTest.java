package io.tessera.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.runtime.AdapterRef;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Adapter directories outside the registry (the command line's --adapter). */
class AdapterRefTest {
    private static final Path SEED = Path.of("adapters-store/seed/demo-llama");

    @Test
    void readsVirtualTokensAndKeysByPath() {
        AdapterRef prompt = AdapterRef.fromDirectory(SEED.resolve("legal-prompt")).orElseThrow();
        assertThat(prompt.name()).isEqualTo("legal-prompt");
        assertThat(prompt.virtualTokens()).isEqualTo(16);
        assertThat(prompt.key()).isEqualTo(SEED.resolve("legal-prompt").toAbsolutePath().normalize().toString());
        assertThat(AdapterRef.fromDirectory(SEED.resolve("research-lora")).orElseThrow().virtualTokens()).isZero();
        // DePT prepends its soft prompt as prompt tuning does: they count against the context before it loads
        Path dept = Path.of("testdata/fixtures-dept/adapters/llama-tiny/dept-6");
        assertThat(AdapterRef.fromDirectory(dept).orElseThrow().virtualTokens()).isEqualTo(6);
    }

    @Test
    void aDirectoryWithoutAdapterConfigIsNone() {
        assertThat(AdapterRef.fromDirectory(Path.of("no/such/dir"))).isEmpty();
        assertThat(AdapterRef.fromDirectory(SEED)).isEmpty();
    }
}
