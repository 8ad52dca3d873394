package io.tessera.api.admin;

import static io.restassured.RestAssured.given;
import static io.tessera.api.admin.AdminApi.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.tessera.adapters.Archives;
import io.tessera.adapters.BlobSweeper;
import io.tessera.config.RegistryConfig;
import io.tessera.store.BlobStore;
import jakarta.inject.Inject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@QuarkusTest
class AdminApiTest {

    @Test
    void keysAndTenants() {
        given().get("/v1/admin/tenants").then().statusCode(401).body("error.type", equalTo("authentication_error"));
        given().auth().oauth2("tsk_wrong").get("/v1/admin/adapters").then().statusCode(401);
        String[] a = AdminApi.newTenant("keys");
        given().auth().oauth2(a[1]).get("/v1/admin/tenants").then().statusCode(403).body("error.type", equalTo("permission_error"));
        given().auth().oauth2(a[1]).contentType("application/json").body(Map.of("name", "sneaky"))
                .post("/v1/admin/tenants").then().statusCode(403);
        given().auth().oauth2(ADMIN).get("/v1/admin/tenants").then().statusCode(200).body("data.name", hasItem(a[0]));
        given().auth().oauth2(ADMIN).contentType("application/json").body(Map.of("name", a[0]))
                .post("/v1/admin/tenants").then().statusCode(409);
        given().auth().oauth2(ADMIN).contentType("application/json").body(Map.of("name", "../x"))
                .post("/v1/admin/tenants").then().statusCode(400);
        // a second key works, and neither is stored in plain text
        String second = given().auth().oauth2(ADMIN).post("/v1/admin/tenants/" + a[0] + "/keys").then().statusCode(201)
                .extract().path("api_key");
        given().auth().oauth2(second).get("/v1/admin/adapters").then().statusCode(200);
    }

    /** Quarkus Security refuses with its own bodiless answers; every refusal here is an OpenAI error instead. */
    @Test
    void refusedKeysAndRolesGetOpenAiErrorBodies() {
        String missing = "missing or invalid API key (Authorization: Bearer KEY)";
        for (String header : new String[] {null, "Basic YWRtaW46eA==", "Bearer ", "Bearer tsk_wrong"}) {
            var request = given().contentType("application/json").body("{\"model\":\"demo-llama\",\"prompt\":\"x\"}");
            if (header != null) {
                request.header("Authorization", header);
            }
            request.post("/v1/completions").then().statusCode(401).contentType("application/json")
                    .body("error.type", equalTo("authentication_error")).body("error.code", equalTo("invalid_api_key"))
                    .body("error.message", equalTo(missing));
        }
        String[] a = AdminApi.newTenant("roles");
        for (String path : new String[] {"/v1/admin/tenants/" + a[0] + "/keys", "/v1/admin/adapters/research-lora/pin"}) {
            given().auth().oauth2(a[1]).post(path).then().statusCode(403).contentType("application/json")
                    .body("error.type", equalTo("permission_error")).body("error.code", equalTo("forbidden"))
                    .body("error.message", equalTo("this call needs the admin key"));
        }
        // the scheme's name is matched as HTTP says, in any case
        given().header("Authorization", "bEaReR " + a[1]).get("/v1/admin/adapters").then().statusCode(200);
    }

    @Test
    void keyRotationRevokesTheOldKeyAtOnce() {
        String[] a = AdminApi.newTenant("rotate");
        String[] b = AdminApi.newTenant("bystander");
        given().auth().oauth2(a[1]).get("/v1/models").then().statusCode(200);   // cached as good from here on
        var issued = given().auth().oauth2(ADMIN).post("/v1/admin/tenants/" + a[0] + "/keys").then().statusCode(201)
                .body("tenant", equalTo(a[0])).extract().jsonPath();
        String second = issued.getString("api_key");
        assertThat(second).startsWith(issued.getString("prefix"));
        var listed = given().auth().oauth2(ADMIN).get("/v1/admin/tenants/" + a[0] + "/keys").then().statusCode(200)
                .body("data.size()", equalTo(2)).body("data.revoked_at", equalTo(java.util.Arrays.asList(null, null)))
                .extract().asString();
        assertThat(listed).doesNotContain(a[1]).doesNotContain(second);   // only prefixes are ever shown
        long first = given().auth().oauth2(ADMIN).get("/v1/admin/tenants/" + a[0] + "/keys").then()
                .extract().jsonPath().getLong("data[0].id");

        given().auth().oauth2(a[1]).delete("/v1/admin/tenants/" + a[0] + "/keys/" + first).then().statusCode(403);
        given().auth().oauth2(ADMIN).delete("/v1/admin/tenants/" + b[0] + "/keys/" + first).then().statusCode(404)
                .body("error.message", equalTo("tenant '" + b[0] + "' has no key " + first));
        given().auth().oauth2(ADMIN).delete("/v1/admin/tenants/nobody-x/keys/" + first).then().statusCode(404);
        given().auth().oauth2(ADMIN).delete("/v1/admin/tenants/" + a[0] + "/keys/" + first).then().statusCode(204);
        given().auth().oauth2(ADMIN).delete("/v1/admin/tenants/" + a[0] + "/keys/" + first).then().statusCode(204);

        // refused at once although it was cached a moment ago; the new key and the other tenant are untouched
        given().auth().oauth2(a[1]).get("/v1/models").then().statusCode(401).body("error.type", equalTo("authentication_error"));
        given().auth().oauth2(second).get("/v1/models").then().statusCode(200);
        given().auth().oauth2(b[1]).get("/v1/models").then().statusCode(200);
        given().auth().oauth2(ADMIN).get("/v1/admin/tenants/" + a[0] + "/keys").then().statusCode(200)
                .body("data.find { it.id == " + first + " }.revoked_at", not(nullValue()))
                .body("data.find { it.id != " + first + " }.revoked_at", nullValue());
        given().auth().oauth2(ADMIN).get("/v1/admin/audit?tenant=" + a[0]).then().statusCode(200)
                .body("data.action", hasItem("revoke-key"));
    }

    @Test
    void deletingATenantTakesItsKeysAndAdaptersAndFreesItsName() throws IOException {
        AdminApi.awaitReady();
        String[] a = AdminApi.newTenant("leaving");
        String[] b = AdminApi.newTenant("staying");
        AdminApi.upload(a[1], null, "research-lora", AdminApi.seedZip("research-lora"), "r.zip", null).then().statusCode(201);
        AdminApi.upload(b[1], null, "research-lora", AdminApi.seedZip("research-lora"), "r.zip", null).then().statusCode(201);
        Map<String, Object> completion = Map.of("model", "research-lora", "prompt", "Returns", "max_tokens", 2);
        given().auth().oauth2(a[1]).contentType("application/json").body(completion).post("/v1/completions").then().statusCode(200);

        given().auth().oauth2(a[1]).delete("/v1/admin/tenants/" + a[0]).then().statusCode(403);
        given().auth().oauth2(ADMIN).delete("/v1/admin/tenants/nobody-" + a[0]).then().statusCode(404);
        given().auth().oauth2(ADMIN).delete("/v1/admin/tenants/" + a[0]).then().statusCode(204);

        given().auth().oauth2(a[1]).contentType("application/json").body(completion).post("/v1/completions").then().statusCode(401);
        given().auth().oauth2(ADMIN).get("/v1/admin/tenants").then().statusCode(200).body("data.name", not(hasItem(a[0])));
        given().auth().oauth2(ADMIN).get("/v1/admin/adapters/research-lora?tenant=" + a[0]).then().statusCode(404);
        given().auth().oauth2(ADMIN).get("/v1/admin/audit").then().statusCode(200).body("data.action", hasItem("delete-tenant"));
        // the other tenant's copy of the same weights (the same blob) is untouched
        given().auth().oauth2(b[1]).contentType("application/json").body(completion).post("/v1/completions").then().statusCode(200);

        String again = given().auth().oauth2(ADMIN).contentType("application/json").body(Map.of("name", a[0]))
                .post("/v1/admin/tenants").then().statusCode(201).extract().path("api_key");
        given().auth().oauth2(again).get("/v1/admin/adapters").then().statusCode(200).body("data.size()", equalTo(0));
        given().auth().oauth2(again).contentType("application/json").body(completion).post("/v1/completions").then().statusCode(404);
    }

    @Test
    void eachKindIsDescribedAsItselfWithItsOwnParameters(@TempDir Path dir) throws IOException {
        String[] t = AdminApi.newTenant("kinds");
        AdminApi.upload(t[1], null, "research-dora", AdminApi.seedZip("research-dora"), "dora.zip", null).then().statusCode(201)
                .body("kind", equalTo("DORA")).body("rank", equalTo(8)).body("virtual_tokens", nullValue());
        AdminApi.upload(t[1], null, "legal-prompt", AdminApi.seedZip("legal-prompt"), "prompt.zip", null).then().statusCode(201)
                .body("kind", equalTo("PROMPT_TUNING")).body("rank", nullValue()).body("virtual_tokens", equalTo(16))
                .body("target_modules", equalTo("prompt"));
        given().auth().oauth2(t[1]).get("/v1/admin/adapters/legal-prompt").then().statusCode(200)
                .body("versions[0].virtual_tokens", equalTo(16)).body("versions[0].rank", nullValue())
                .body("versions[0].max_length", nullValue());
        Map<String, Object> files = Archives.filesOf(AdminApi.dept(dir));
        AdminApi.upload(t[1], null, "dept", Archives.zip(files), "dept.zip", null).then().statusCode(201)
                .body("kind", equalTo("PROMPT_TUNING_LORA")).body("rank", equalTo(4)).body("virtual_tokens", equalTo(4))
                .body("max_length", equalTo(16)).body("target_modules", equalTo("prompt,embed_tokens"));
        given().auth().oauth2(t[1]).get("/v1/admin/adapters/dept").then().statusCode(200)
                .body("versions[0].max_length", equalTo(16)).body("versions[0].rank", equalTo(4));
        // the same checks as every kind: an update of rank 0 is refused with the reason
        files.put("adapter_config.json", new String((byte[]) files.get("adapter_config.json"), StandardCharsets.UTF_8)
                .replace("\"r\":4", "\"r\":0").getBytes(StandardCharsets.UTF_8));
        AdminApi.upload(t[1], null, "dept", Archives.zip(files), "dept.zip", null).then().statusCode(422)
                .body("error.message", equalTo("adapter_config.json: r must be an integer in 1..16, not 0"));
        // a LoRA upload under a DoRA's name is another kind
        AdminApi.upload(t[1], null, "research-dora", AdminApi.seedZip("research-lora"), "lora.zip", null).then().statusCode(422)
                .body("error.message", equalTo("adapter research-dora is DORA; the upload is LORA (upload it under another name)"));
    }

    /** What the console lists per adapter: kind, rank, versions, the active one and its size, residency tier, pin. */
    @Test
    void listingShowsVersionsTierAndPin() throws IOException {
        String[] t = AdminApi.newTenant("listing");
        byte[] lora = AdminApi.seedZip("research-lora");
        AdminApi.upload(t[1], null, "listed", lora, "listed.zip", null).then().statusCode(201);
        AdminApi.upload(t[1], null, "listed", lora, "listed.zip", "false").then().statusCode(201);
        String row = "data.find { it.name == 'listed' }";
        var list = given().auth().oauth2(t[1]).get("/v1/admin/adapters").then().statusCode(200)
                .body(row + ".kind", equalTo("LORA")).body(row + ".rank", equalTo(16))
                .body(row + ".active_version", equalTo(1)).body(row + ".pinned", equalTo(false))
                .body(row + ".versions.version", contains(1, 2)).body(row + ".versions.active", contains(true, false))
                .body(row + ".versions.created_at", everyItem(notNullValue()))
                .extract().jsonPath();
        long size = list.getLong(row + ".size_bytes");
        assertThat(size).isPositive();
        assertThat(list.getList(row + ".versions.size_bytes", Long.class)).containsExactly(size, size);
        assertThat(list.getString(row + ".tier")).isIn("engine", "host", "store");

        // served once: resident in the engine, as the completion's header said
        String tier = given().auth().oauth2(t[1]).contentType("application/json")
                .body(Map.of("model", "listed", "prompt", "x", "max_tokens", 1)).post("/v1/completions").then().statusCode(200)
                .extract().header("X-Tessera-Adapter-Tier");
        assertThat(tier).isIn("engine", "host", "store");
        given().auth().oauth2(t[1]).get("/v1/admin/adapters").then().body(row + ".tier", equalTo("engine"));
        given().auth().oauth2(ADMIN).queryParam("tenant", t[0]).post("/v1/admin/adapters/listed/pin").then().statusCode(200);
        given().auth().oauth2(ADMIN).queryParam("tenant", t[0]).get("/v1/admin/adapters").then()
                .body(row + ".pinned", equalTo(true)).body(row + ".tier", equalTo("engine"));
    }

    @Test
    void adapterLifecycleIsTenantScoped() throws IOException {
        String[] a = AdminApi.newTenant("life");
        String[] b = AdminApi.newTenant("other");
        byte[] v1 = AdminApi.seedZip("research-lora");
        AdminApi.upload(a[1], null, "research-lora", v1, "research-lora.zip", null).then().statusCode(201)
                .body("name", equalTo("research-lora")).body("kind", equalTo("LORA")).body("active_version", equalTo(1))
                .body("rank", equalTo(16)).body("base_model", equalTo("demo-llama"));
        given().auth().oauth2(a[1]).get("/v1/admin/adapters").then().statusCode(200).body("data.name", hasItem("research-lora"));
        given().auth().oauth2(b[1]).get("/v1/admin/adapters").then().statusCode(200).body("data.name", not(hasItem("research-lora")));
        given().auth().oauth2(b[1]).get("/v1/admin/adapters/research-lora").then().statusCode(404);
        given().auth().oauth2(b[1]).get("/v1/admin/adapters?tenant=" + a[0]).then().statusCode(403);

        // v2: other weights scale (alpha), same kind; uploaded by the admin for tenant a, as .tar.gz
        Map<String, Object> files = Archives.filesOf(AdminApi.SEED.resolve("research-lora"));
        files.put("adapter_config.json", new String((byte[]) files.get("adapter_config.json"), StandardCharsets.UTF_8)
                .replace("\"lora_alpha\": 32", "\"lora_alpha\": 16").getBytes(StandardCharsets.UTF_8));
        AdminApi.upload(ADMIN, a[0], "research-lora", Archives.tarGz(files), "v2.tar.gz", null).then().statusCode(201)
                .body("active_version", equalTo(2));
        AdminApi.upload(ADMIN, a[0], "research-lora", v1, "v3.zip", "false").then().statusCode(201)
                .body("active_version", equalTo(2));
        given().auth().oauth2(a[1]).get("/v1/admin/adapters/research-lora").then().statusCode(200)
                .body("versions.version", equalTo(java.util.List.of(1, 2, 3)))
                .body("versions.find { it.version == 3 }.sha256", equalTo(given().auth().oauth2(a[1])
                        .get("/v1/admin/adapters/research-lora").then().extract().path("versions.find { it.version == 1 }.sha256")));
        given().auth().oauth2(a[1]).contentType("application/json").body(Map.of("version", 1))
                .post("/v1/admin/adapters/research-lora/activate").then().statusCode(200).body("active_version", equalTo(1));
        given().auth().oauth2(a[1]).contentType("application/json").body(Map.of("version", 9))
                .post("/v1/admin/adapters/research-lora/activate").then().statusCode(404);
        given().auth().oauth2(b[1]).contentType("application/json").body(Map.of("version", 1))
                .post("/v1/admin/adapters/research-lora/activate").then().statusCode(404);

        given().auth().oauth2(a[1]).post("/v1/admin/adapters/research-lora/pin").then().statusCode(403);
        given().auth().oauth2(ADMIN).post("/v1/admin/adapters/research-lora/pin?tenant=" + a[0]).then().statusCode(200)
                .body("pinned", equalTo(true));
        given().auth().oauth2(ADMIN).post("/v1/admin/adapters/research-lora/unpin?tenant=" + a[0]).then().statusCode(200)
                .body("pinned", equalTo(false));

        given().auth().oauth2(b[1]).delete("/v1/admin/adapters/research-lora").then().statusCode(404);
        given().auth().oauth2(a[1]).delete("/v1/admin/adapters/research-lora").then().statusCode(204);
        given().auth().oauth2(a[1]).get("/v1/admin/adapters/research-lora").then().statusCode(404)
                .body("error.message", equalTo("adapter 'research-lora' not found")).body("error.param", nullValue());

        // every change is in the audit log, and each tenant sees only its own
        given().auth().oauth2(a[1]).get("/v1/admin/audit").then().statusCode(200)
                .body("data.action", equalTo(java.util.List.of("delete", "unpin", "pin", "activate", "upload", "upload",
                        "upload", "create-tenant")))
                .body("data[1].actor", equalTo("admin")).body("data[0].actor", equalTo("tenant:" + a[0]));
        given().auth().oauth2(b[1]).get("/v1/admin/audit").then().statusCode(200)
                .body("data.action", equalTo(java.util.List.of("create-tenant")));
    }

    @Inject
    BlobSweeper sweeper;
    @Inject
    BlobStore blobs;

    @Test
    void sweeperDeletesBlobsOfDeletedAdapters() throws IOException {
        String[] a = AdminApi.newTenant("sweep");
        Map<String, Object> files = Archives.filesOf(AdminApi.SEED.resolve("legal-prompt"));
        files.put("README.md", a[0].getBytes(StandardCharsets.UTF_8));   // bytes of its own: a blob no one else has
        AdminApi.upload(a[1], null, "legal-prompt", Archives.zip(files), "p.zip", null).then().statusCode(201);
        String sha = given().auth().oauth2(a[1]).get("/v1/admin/adapters/legal-prompt").then().extract().path("versions[0].sha256");
        assertThat(blobs.exists(sha)).isTrue();
        sweeper.sweep(Instant.now().plusSeconds(1));
        assertThat(blobs.exists(sha)).as("still referenced").isTrue();
        given().auth().oauth2(a[1]).delete("/v1/admin/adapters/legal-prompt").then().statusCode(204);
        sweeper.sweep(Instant.now().minusSeconds(3600));
        assertThat(blobs.exists(sha)).as("inside the grace period").isTrue();
        sweeper.sweep(Instant.now().plusSeconds(1));
        assertThat(blobs.exists(sha)).isFalse();
    }

    @Inject
    RegistryConfig registry;
    @TestHTTPResource("/")
    URL root;

    /** The HTTP server's body limit is the upload limit: a body declared one byte over it is refused unread. */
    @Test
    void anUploadBodyOverTheUploadLimitIs413BeforeItIsRead() throws IOException {
        assertThat(ConfigProvider.getConfig().getValue("quarkus.http.limits.max-body-size", MemorySize.class).asLongValue())
                .isEqualTo(registry.maxUploadBytes());
        try (Socket s = new Socket(root.getHost(), root.getPort())) {
            s.getOutputStream().write(("POST /v1/admin/adapters?name=big HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                    + ADMIN + "\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: "
                    + (registry.maxUploadBytes() + 1) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String status = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            assertThat(status).startsWith("HTTP/1.1 413");
        }
    }
}
