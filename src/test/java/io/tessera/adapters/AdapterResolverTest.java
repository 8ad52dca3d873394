package io.tessera.adapters;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarkus.test.junit.QuarkusTest;
import io.tessera.api.admin.AdminApi;
import jakarta.inject.Inject;
import io.tessera.store.BlobStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
class AdapterResolverTest {
    @Inject
    AdapterResolver resolver;
    @Inject
    HostAdapterCache host;
    @Inject
    AdapterFiles files;
    @Inject
    BlobStore blobs;
    @Inject
    RegistryConfig config;

    @Test
    void followsActivationAtOnceAndPrefetches() throws IOException, InterruptedException {
        String[] t = AdminApi.newTenant("resolve");
        String[] other = AdminApi.newTenant("resolve-other");
        AdminApi.upload(t[1], null, "research-lora", AdminApi.seedZip("research-lora"), "v1.zip", null).then().statusCode(201);
        AdapterResolver.Resolved v1 = resolver.resolve(t[0], "research-lora").orElseThrow();
        assertThat(v1.version()).isEqualTo(1);
        assertThat(v1.kind()).isEqualTo("LORA");
        assertThat(resolver.resolve(other[0], "research-lora")).isEmpty();

        Map<String, Object> v2files = Archives.filesOf(AdminApi.SEED.resolve("research-lora"));
        v2files.put("adapter_config.json", new String((byte[]) v2files.get("adapter_config.json"), StandardCharsets.UTF_8)
                .replace("\"lora_alpha\": 32", "\"lora_alpha\": 31").getBytes(StandardCharsets.UTF_8));
        AdminApi.upload(t[1], null, "research-lora", Archives.zip(v2files), "v2.zip", null).then().statusCode(201);
        AdapterResolver.Resolved v2 = resolver.resolve(t[0], "research-lora").orElseThrow();
        assertThat(v2.version()).isEqualTo(2);
        assertThat(v2.engineKey()).isNotEqualTo(v1.engineKey());
        assertThat(host.contains(v2.sha256())).isTrue();

        given().auth().oauth2(t[1]).contentType("application/json").body(Map.of("version", 1))
                .post("/v1/admin/adapters/research-lora/activate").then().statusCode(200);
        assertThat(resolver.resolve(t[0], "research-lora").orElseThrow().version()).isEqualTo(1);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!host.contains(v1.sha256()) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(host.contains(v1.sha256())).as("prefetched after activation").isTrue();
        assertThat(files.dir(v1.sha256()).resolve("adapter_model.safetensors")).exists();

        given().auth().oauth2(t[1]).delete("/v1/admin/adapters/research-lora").then().statusCode(204);
        assertThat(resolver.resolve(t[0], "research-lora")).isEmpty();
    }

    @Test
    void aBlobWhoseBytesDoNotMatchItsHashIsNeverUnpacked() throws IOException {
        // bytes stored under a hash they do not have: a corrupted or tampered object in the store
        String sha = "5e" + "ab".repeat(31);
        Path tampered = Files.write(Files.createTempFile("tampered", ".zip"), AdminApi.seedZip("research-lora"));
        blobs.put(sha, tampered);
        try {
            assertThatThrownBy(() -> files.dir(sha)).isInstanceOf(AdapterFetchException.class)
                    .hasMessageContaining(sha).hasMessageContaining("SHA-256 differs");
            assertThat(Path.of(config.workDir(), "adapters", sha)).doesNotExist();
        } finally {
            blobs.delete(sha);
            Files.delete(tampered);
        }
    }
}
