package io.tessera.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DirectoryAdapterCatalogTest {
    final AdapterCatalog catalog = new DirectoryAdapterCatalog(Path.of("adapters-store/seed/demo-llama"));

    @Test
    void listsEverySubdirectoryWithAnAdapterConfigByName() {
        assertThat(catalog.list("anyone")).extracting(AdapterRef::name)
                .containsExactly("legal-prompt", "research-dora", "research-lora");
    }

    @Test
    void resolvesANameToVersionOneWithItsVirtualTokens() {
        AdapterRef prompt = catalog.resolve("anyone", "legal-prompt").orElseThrow();
        assertThat(prompt.key()).isEqualTo("legal-prompt@1");
        assertThat(prompt.peftType()).isEqualTo("PROMPT_TUNING");
        assertThat(prompt.virtualTokens()).isEqualTo(16);
        assertThat(catalog.resolve("anyone", "research-lora").orElseThrow().virtualTokens()).isZero();
    }

    @Test
    void aNameIsOnePathSegmentAndNothingElseResolves() {
        assertThat(catalog.resolve("anyone", "no-such-adapter")).isEmpty();
        assertThat(catalog.resolve("anyone", "../demo-llama/research-lora")).isEmpty();
        assertThat(catalog.resolve("anyone", "..")).isEmpty();
        assertThat(catalog.resolve("anyone", "")).isEmpty();
        assertThat(catalog.resolve("anyone", null)).isEmpty();
    }

    @Test
    void aMissingDirectoryHasNoAdapters() {
        assertThat(new DirectoryAdapterCatalog(Path.of("no/such/dir")).list("anyone")).isEmpty();
    }
}
