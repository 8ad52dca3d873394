package io.tessera.api.admin;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.common.http.TestHTTPResourceManager;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import io.tessera.adapters.Archives;
import io.tessera.cli.RandomAdapters;
import io.tessera.engine.ModelConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

/** Admin API calls for tests. */
public final class AdminApi {
    public static final String ADMIN = "test-admin-key";
    public static final Path SEED = Path.of("adapters-store/seed/demo-llama");

    private AdminApi() {
    }

    /** A tenant with a fresh unique name; returns {name, key}. */
    public static String[] newTenant(String prefix) {
        String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        String key = given().auth().oauth2(ADMIN).contentType("application/json").body(Map.of("name", name))
                .post("/v1/admin/tenants").then().statusCode(201).extract().path("api_key");
        return new String[] {name, key};
    }

    public static byte[] seedZip(String adapter) throws IOException {
        return Archives.zip(Archives.filesOf(SEED.resolve(adapter)));
    }

    /**
     * A DePT adapter for demo-llama with random weights under {@code dir}: 4 virtual tokens, an update of rank 4 over
     * the first 16 prompt positions (longer than the tests' prompts, so generated tokens fall inside them).
     */
    public static Path dept(Path dir) {
        return RandomAdapters.dept(dir, ModelConfig.load(Path.of("models/demo-llama")), 4, 16, 4, new Random(3));
    }

    /** Waits for the model to load: uploads are checked against it (503 before). */
    public static void awaitReady() {
        await("the service becomes ready").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100))
                .until(() -> management().get("/q/health/ready").statusCode() == 200);
    }

    /** A request to the management interface (health, metrics): its own port, not the API's. */
    public static RequestSpecification management() {
        URI uri = URI.create(TestHTTPResourceManager.getManagementUri());
        return given().baseUri(uri.getScheme() + "://" + uri.getHost()).port(uri.getPort());
    }

    public static Response upload(String key, String tenant, String name, byte[] archive, String fileName, String activate) {
        awaitReady();
        var req = given().auth().oauth2(key).multiPart("file", fileName, archive, "application/octet-stream");
        if (name != null) {
            req = req.multiPart("name", name);
        }
        if (tenant != null) {
            req = req.multiPart("tenant", tenant);
        }
        if (activate != null) {
            req = req.multiPart("activate", activate);
        }
        return req.post("/v1/admin/adapters");
    }

    public static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
