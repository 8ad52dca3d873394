package io.tessera.adapters;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.junit.QuarkusTest;
import io.tessera.api.admin.AdminApi;
import io.tessera.config.RegistryConfig;
import io.tessera.engine.adapter.Adapter;
import io.tessera.persistence.Db;
import io.tessera.security.Tenant;
import io.tessera.security.TenantGoneException;
import io.tessera.store.BlobStore;
import jakarta.inject.Inject;
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
    void followsActivationAtOnceAndPrefetches() throws IOException {
        String[] t = AdminApi.newTenant("resolve");
        long id = idOf(t[0]);
        long otherId = idOf(AdminApi.newTenant("resolve-other")[0]);
        AdminApi.upload(t[1], null, "research-lora", AdminApi.seedZip("research-lora"), "v1.zip", null).then().statusCode(201);
        AdapterResolver.Resolved v1 = resolver.resolve(id, "research-lora").orElseThrow();
        assertThat(v1.version()).isEqualTo(1);
        assertThat(v1.kind()).isEqualTo(Adapter.Kind.LORA);
        assertThat(resolver.resolve(otherId, "research-lora")).isEmpty();

        Map<String, Object> v2files = Archives.filesOf(AdminApi.SEED.resolve("research-lora"));
        v2files.put("adapter_config.json", new String((byte[]) v2files.get("adapter_config.json"), StandardCharsets.UTF_8)
                .replace("\"lora_alpha\": 32", "\"lora_alpha\": 31").getBytes(StandardCharsets.UTF_8));
        AdminApi.upload(t[1], null, "research-lora", Archives.zip(v2files), "v2.zip", null).then().statusCode(201);
        AdapterResolver.Resolved v2 = resolver.resolve(id, "research-lora").orElseThrow();
        assertThat(v2.version()).isEqualTo(2);
        assertThat(v2.engineKey()).isNotEqualTo(v1.engineKey());
        assertThat(host.contains(v2.sha256())).isTrue();

        given().auth().oauth2(t[1]).contentType("application/json").body(Map.of("version", 1))
                .post("/v1/admin/adapters/research-lora/activate").then().statusCode(200);
        assertThat(resolver.resolve(id, "research-lora").orElseThrow().version()).isEqualTo(1);
        await("prefetched after activation").atMost(Duration.ofSeconds(10)).until(() -> host.contains(v1.sha256()));
        assertThat(files.dir(v1.sha256()).resolve("adapter_model.safetensors")).exists();

        given().auth().oauth2(t[1]).delete("/v1/admin/adapters/research-lora").then().statusCode(204);
        assertThat(resolver.resolve(id, "research-lora")).isEmpty();
    }

    /** A tenant deleted and created again under its name is a new id: nothing resolved for the old one reaches it. */
    @Test
    void aDeletedTenantsIdResolvesNothingOfItsSuccessor() throws IOException {
        String[] t = AdminApi.newTenant("resolve-gone");
        long old = idOf(t[0]);
        AdminApi.upload(t[1], null, "research-lora", AdminApi.seedZip("research-lora"), "a.zip", null).then().statusCode(201);
        assertThat(resolver.resolve(old, "research-lora")).isPresent();
        given().auth().oauth2(AdminApi.ADMIN).delete("/v1/admin/tenants/" + t[0]).then().statusCode(204);
        String key = given().auth().oauth2(AdminApi.ADMIN).contentType("application/json").body(Map.of("name", t[0]))
                .post("/v1/admin/tenants").then().statusCode(201).extract().path("api_key");
        AdminApi.upload(key, null, "research-lora", AdminApi.seedZip("research-lora"), "a.zip", null).then().statusCode(201);
        AdminApi.upload(key, null, "new-lora", AdminApi.seedZip("research-lora"), "a.zip", null).then().statusCode(201);
        long renewed = idOf(t[0]);
        assertThat(renewed).isNotEqualTo(old);
        assertThat(resolver.resolve(renewed, "research-lora").orElseThrow().tenantId()).isEqualTo(renewed);
        assertThatThrownBy(() -> resolver.resolve(old, "new-lora")).isInstanceOf(TenantGoneException.class);
        assertThatThrownBy(() -> resolver.resolve(old, "research-lora")).isInstanceOf(TenantGoneException.class);
        assertThatThrownBy(() -> resolver.list(old)).isInstanceOf(TenantGoneException.class);
        assertThat(resolver.list(renewed)).extracting(AdapterResolver.Resolved::name).containsExactly("new-lora", "research-lora");
    }

    private static long idOf(String tenant) {
        return Db.tx(() -> Tenant.byName(tenant).orElseThrow().id);
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
