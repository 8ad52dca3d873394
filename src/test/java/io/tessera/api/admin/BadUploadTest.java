package io.tessera.api.admin;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.test.junit.QuarkusTest;
import io.tessera.TestSupport.RawSafetensors;
import io.tessera.TestSupport;
import io.tessera.adapters.AdapterVersion;
import io.tessera.adapters.Archives.Link;
import io.tessera.adapters.Archives.Special;
import io.tessera.adapters.Archives;
import io.tessera.adapters.RegisteredAdapter;
import io.tessera.config.RegistryConfig;
import io.tessera.config.StoreConfig;
import io.tessera.engine.safetensors.SafetensorsWriter;
import io.tessera.persistence.Db;
import io.tessera.store.BlobStore;
import io.tessera.testing.SmallDisk;
import io.tessera.util.Io;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each refused upload answers 4xx naming the problem, and leaves no row and no blob behind. */
@QuarkusTest
class BadUploadTest {
    @Inject
    BlobStore blobs;
    @Inject
    RegistryConfig registry;
    @Inject
    StoreConfig store;

    private static Map<String, Object> lora() throws IOException {
        return Archives.filesOf(AdminApi.SEED.resolve("research-lora"));
    }

    private void refused(byte[] archive, String name, int status, String message) throws IOException {
        refused(archive, "adapter.zip", name, status, message, null);
    }

    /** Refused with this status, message and (unless null) error code; no row, no blob, no work directory left. */
    private void refused(byte[] archive, String fileName, String name, int status, String message, String code) throws IOException {
        String[] t = AdminApi.newTenant("bad");
        List<BlobStore.Blob> before = blobs.list();
        var answer = AdminApi.upload(t[1], null, name, archive, fileName, null).then().statusCode(status)
                .body("error.message", containsString(message))
                .body("error.type", equalTo(status >= 500 ? "server_error" : "invalid_request_error"));
        if (code != null) {
            answer.body("error.code", equalTo(code));
        }
        assertThat(Db.tx(() -> RegisteredAdapter.count("tenant.name", t[0]))).isZero();
        assertThat(Db.tx(() -> AdapterVersion.count("adapter.tenant.name", t[0]))).isZero();
        assertThat(blobs.list()).containsExactlyInAnyOrderElementsOf(before);
        try (Stream<Path> work = Files.list(Path.of(registry.workDir()))) {
            assertThat(work.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("upload-"));
        }
    }

    @Test
    void zipSlip() throws IOException {
        Map<String, Object> files = lora();
        files.put("../../evil.txt", "x".getBytes());
        refused(Archives.zip(files), "slip", 400, "contains '..'");
    }

    @Test
    void absolutePath() throws IOException {
        Map<String, Object> files = lora();
        files.put("/tmp/evil.txt", "x".getBytes());
        refused(Archives.tarGz(files), "absolute", 400, "absolute");
    }

    @Test
    void symlink() throws IOException {
        Map<String, Object> files = lora();
        files.put("adapter_model.safetensors", new Link("/etc/passwd"));
        refused(Archives.zip(files), "symlink", 400, "symbolic link");
    }

    @Test
    void archiveBomb() throws IOException {
        Map<String, Object> files = new LinkedHashMap<>();
        files.put("adapter_config.json", lora().get("adapter_config.json"));
        files.put("adapter_model.safetensors", new byte[64 << 20]);
        refused(Archives.zip(files), "bomb", 413, "archive bomb");
    }

    @Test
    void truncatedSafetensors() throws IOException {
        Map<String, Object> files = lora();
        byte[] st = (byte[]) files.get("adapter_model.safetensors");
        files.put("adapter_model.safetensors", Arrays.copyOf(st, st.length / 2));
        refused(Archives.zip(files), "truncated", 422, "adapter_model.safetensors: tensor");
    }

    @Test
    void overlappingOffsets() throws IOException {
        Map<String, Object> files = lora();
        byte[] header = ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}").getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + 12).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        files.put("adapter_model.safetensors", b.array());
        refused(Archives.zip(files), "overlap", 422, "overlaps the previous tensor");
    }

    @Test
    void pickleBin() throws IOException {
        Map<String, Object> files = new LinkedHashMap<>();
        files.put("adapter_config.json", lora().get("adapter_config.json"));
        files.put("adapter_model.bin", new byte[] {(byte) 0x80, 0x04, '.'});
        refused(Archives.zip(files), "pickle", 422, "adapter_model.bin: pickle files are never loaded");
    }

    @Test
    void wrongHiddenSize() throws IOException {
        // a LoRA made for a model with hidden size 128; demo-llama's is 256
        SafetensorsWriter w = new SafetensorsWriter();
        java.util.Random r = new java.util.Random(1);   // random weights: zeros would trip the compression-ratio bound
        for (int l = 0; l < 6; l++) {
            String m = "base_model.model.model.layers." + l + ".self_attn.q_proj.";
            w.add(m + "lora_A.weight", random(r, 4 * 128), 4, 128).add(m + "lora_B.weight", random(r, 128 * 4), 128, 4);
        }
        Path st = Files.createTempFile("wrong-hidden", ".safetensors");
        w.write(st);
        Map<String, Object> files = new LinkedHashMap<>();
        files.put("adapter_config.json", "{\"peft_type\":\"LORA\",\"r\":4,\"lora_alpha\":8,\"target_modules\":[\"q_proj\"]}"
                .getBytes(StandardCharsets.UTF_8));
        files.put("adapter_model.safetensors", Files.readAllBytes(st));
        Files.delete(st);
        refused(Archives.zip(files), "hidden", 422, "has shape [4, 128] but the base model needs [4, 256]");
    }

    private static float[] random(java.util.Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    @Test
    void unknownPeftType() throws IOException {
        Map<String, Object> files = lora();
        files.put("adapter_config.json", new String((byte[]) files.get("adapter_config.json"), StandardCharsets.UTF_8)
                .replace("\"peft_type\": \"LORA\"", "\"peft_type\": \"IA3\"").getBytes(StandardCharsets.UTF_8));
        refused(Archives.zip(files), "ia3", 422, "unsupported peft_type 'IA3'");
    }

    @Test
    void nameWithSlashOrDots() throws IOException {
        byte[] good = Archives.zip(lora());
        refused(good, "a/b", 400, "not allowed");
        refused(good, "..", 400, "not allowed");
        refused(good, "x..y", 400, "not allowed");
    }

    // numeric isolation: a scaling that is not positive and finite, or non-finite weights, never reach the engine

    /** research-lora with one config field set to a JSON value written as is (1e309 stays the text the tenant sent). */
    private static Map<String, Object> loraWith(String field, String json) throws IOException {
        Map<String, Object> files = lora();
        ObjectNode cfg = (ObjectNode) TestSupport.JSON.readTree((byte[]) files.get("adapter_config.json"));
        cfg.put(field, "@RAW@");
        files.put("adapter_config.json", TestSupport.JSON.writeValueAsString(cfg).replace("\"@RAW@\"", json)
                .getBytes(StandardCharsets.UTF_8));
        return files;
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "lora_alpha     | \"NaN\"             | adapter_config.json: lora_alpha must be a finite number > 0, not \"NaN\"",
        "lora_alpha     | 1e309               | adapter_config.json: lora_alpha must be a finite number > 0, not Infinity",
        "lora_alpha     | -32                 | adapter_config.json: lora_alpha must be a finite number > 0, not -32",
        "r              | 0                   | adapter_config.json: r must be an integer >= 1, not 0",
        "rank_pattern   | {\"q_proj\": 0}       | adapter_config.json: rank_pattern value of 'q_proj' must be an integer >= 1, not 0",
        "alpha_pattern  | {\"q_proj\": 1e309}   | adapter_config.json: alpha_pattern value of 'q_proj' must be a finite number > 0, not Infinity",
        "target_modules | \"(\"               | adapter_config.json: target_modules is not a valid regular expression",
        "rank_pattern   | {\"(\": 2}            | adapter_config.json: rank_pattern key '(' is not a valid regular expression",
    })
    void scalingAndPatternsAreCheckedAtUpload(String field, String json, String message) throws IOException {
        refused(Archives.zip(loraWith(field, json)), "adapter.zip", "numeric", 422, message, "adapter_rejected");
    }

    @Test
    void nonFiniteWeightsAreRefused() throws IOException {
        Map<String, Object> files = lora();
        Path st = Files.createTempFile("nan", ".safetensors");
        Files.write(st, (byte[]) files.get("adapter_model.safetensors"));
        RawSafetensors raw = RawSafetensors.read(st);
        String first = raw.names().get(0);
        ByteBuffer.wrap(raw.data()).order(ByteOrder.LITTLE_ENDIAN).putFloat((int) raw.begin(first), Float.NaN);
        raw.write(st);
        files.put("adapter_model.safetensors", Files.readAllBytes(st));
        Files.delete(st);
        refused(Archives.zip(files), "adapter.zip", "nan", 422, "adapter_model.safetensors: tensor " + first + " contains NaN or Inf",
                "adapter_rejected");
    }

    @Test
    void aScalarPromptEmbeddingIsRefused() throws IOException {
        Map<String, Object> files = Archives.filesOf(AdminApi.SEED.resolve("legal-prompt"));
        byte[] header = "{\"prompt_embeddings\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}".getBytes(StandardCharsets.UTF_8);
        files.put("adapter_model.safetensors", ByteBuffer.allocate(8 + header.length + 4).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length).put(header).array());
        refused(Archives.zip(files), "adapter.zip", "scalar", 422, "prompt_embeddings has shape []", "adapter_rejected");
    }

    // patterns in linear time

    /** A config with an empty (valid) safetensors file: a target pattern is all that is checked. */
    private static byte[] targets(String pattern) throws IOException {
        Map<String, Object> files = new LinkedHashMap<>();
        files.put("adapter_config.json", ("{\"peft_type\":\"LORA\",\"r\":4,\"lora_alpha\":8,\"target_modules\":"
                + TestSupport.JSON.writeValueAsString(pattern) + "}").getBytes(StandardCharsets.UTF_8));
        files.put("adapter_model.safetensors", ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN).putLong(2)
                .put((byte) '{').put((byte) '}').array());
        return Archives.zip(files);
    }

    @Test
    void aCatastrophicTargetRegexIsAnsweredWithinTwoSeconds() throws IOException {
        byte[] zip = targets("((.*)*)*X");
        // the same refusal with a harmless pattern first: class loading and JIT are not what is timed
        refused(targets("no_such_module"), "adapter.zip", "warm", 422, "match no module of the base model", "adapter_rejected");
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> refused(zip, "adapter.zip", "redos", 422,
                "adapter_config.json: target_modules \"((.*)*)*X\" match no module of the base model", "adapter_rejected"));
    }

    // size bounds before reading

    @Test
    void anOversizedConfigIsRefusedBeforeItIsRead() throws IOException {
        // 2 MiB of JSON that compresses to a few KB, next to real weights: within the ratio bound, over the config's
        Map<String, Object> files = loraWith("padding", "\"" + " ".repeat(2 << 20) + "\"");
        String message = "archive entry adapter_config.json is over the limit of 1048576 bytes for adapter_config.json";
        refused(Archives.zip(files), "adapter.zip", "bigcfg", 413, message, "too_large");
        refused(Archives.tarGz(files), "adapter.tar.gz", "bigcfg", 413, message, "too_large");
    }

    @Test
    void aSafetensorsHeaderOverTheLimitIsRefusedBeforeItIsRead() throws IOException {
        Map<String, Object> files = lora();
        files.put("adapter_model.safetensors", ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(200L << 20).array());
        refused(Archives.zip(files), "adapter.zip", "bighdr", 413,
                "adapter_model.safetensors: header length 209715200 is over the limit of 104857600 bytes", "too_large");
    }

    // archives

    @Test
    void fifosAndDevicesInATarAreRefused() throws IOException {
        Map<String, Object> files = lora();
        files.put("fifo", new Special(TarConstants.LF_FIFO));
        refused(Archives.tarGz(files), "adapter.tar.gz", "fifo", 422, "archive entry fifo is a FIFO", "adapter_rejected");
        files.put("fifo", new Special(TarConstants.LF_CHR));
        refused(Archives.tarGz(files), "adapter.tar.gz", "chr", 422, "archive entry fifo is a character device", "adapter_rejected");
    }

    @Test
    void aFileAndADirectoryOfTheSameNameAreRefused() throws IOException {
        Map<String, Object> files = lora();
        files.put("x", new byte[1]);
        files.put("x/y", new byte[1]);
        refused(Archives.zip(files), "adapter.zip", "conflict", 422, "archive entry x/y is inside x, which is a file", "adapter_rejected");
        refused(Archives.tarGz(files), "adapter.tar.gz", "conflict", 422, "archive entry x/y is inside x, which is a file",
                "adapter_rejected");
    }

    @Test
    void aMalformedMultipartBodyIs400() {
        // a part without headers and a body cut before its closing boundary: the form parser's errors are the client's
        for (String body : new String[] {"--b\r\n\r\n--b--", "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.zip\"\r\n\r\nPK"}) {
            given().auth().oauth2(AdminApi.ADMIN).contentType("multipart/form-data; boundary=b")
                    .body(body.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1))
                    .post("/v1/admin/adapters").then().statusCode(400).body("error.code", equalTo("invalid_body"));
        }
    }

    // names that cannot exist never reach SQL

    @Test
    void namesWithControlCharactersAre400() throws IOException {
        // name -> as the message shows it
        Map<String, String> names = Map.of("a" + (char) 0 + "b", "a\\u0000b", "a\nb", "a\\u000ab", String.valueOf((char) 7), "\\u0007");
        for (Map.Entry<String, String> e : names.entrySet()) {
            refusedEverywhere(e.getKey(), e.getValue());
        }
    }

    private void refusedEverywhere(String name, String shown) throws IOException {
        refused(Archives.zip(lora()), "adapter.zip", name, 400, "adapter name '" + shown + "' is not allowed", "invalid");
        String[] t = AdminApi.newTenant("ctl");
        AdminApi.upload(AdminApi.ADMIN, name, "x", Archives.zip(lora()), "a.zip", null).then().statusCode(400)
                .body("error.message", containsString("tenant name '" + shown + "' is not allowed"));
        given().auth().oauth2(t[1]).get("/v1/admin/adapters/{n}", name).then().statusCode(400)
                .body("error.message", containsString("adapter name '" + shown + "' is not allowed"));
        given().auth().oauth2(t[1]).delete("/v1/admin/adapters/{n}", name).then().statusCode(400);
        given().auth().oauth2(AdminApi.ADMIN).queryParam("tenant", name).get("/v1/admin/adapters").then().statusCode(400)
                .body("error.message", containsString("tenant name '" + shown + "' is not allowed"));
        given().auth().oauth2(AdminApi.ADMIN).queryParam("tenant", name).get("/v1/admin/usage").then().statusCode(400);
        given().auth().oauth2(AdminApi.ADMIN).queryParam("tenant", name).get("/v1/admin/audit").then().statusCode(400);
        given().auth().oauth2(AdminApi.ADMIN).get("/v1/admin/tenants/{n}/keys", name).then().statusCode(400)
                .body("error.message", containsString("tenant name '" + shown + "' is not allowed"));
        given().auth().oauth2(AdminApi.ADMIN).post("/v1/admin/tenants/{n}/keys", name).then().statusCode(400);
        given().auth().oauth2(AdminApi.ADMIN).delete("/v1/admin/tenants/{n}", name).then().statusCode(400);
        given().auth().oauth2(AdminApi.ADMIN).contentType("application/json").body(Map.of("name", name))
                .post("/v1/admin/tenants").then().statusCode(400);
        // as a model to run, such a name is one no adapter has
        given().auth().oauth2(t[1]).contentType("application/json").body(Map.of("model", name, "prompt", "Hi", "max_tokens", 1))
                .post("/v1/completions").then().statusCode(404).body("error.code", equalTo("model_not_found"));
    }

    // a full store

    @Test
    void aFullStoreAnswers507AndKeepsNothing() throws IOException {
        // a new blob (the seed's is stored already) whose fan-out directory is not there yet: a tiny disk goes there
        Map<String, Object> files = lora();
        byte[] zip;
        Path fan;
        do {
            files.put("README.md", UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8));
            zip = Archives.zip(files);
            Path tmp = Files.write(Files.createTempFile("full", ".zip"), zip);
            fan = Path.of(store.root(), "blobs/sha256", Io.sha256(tmp).substring(0, 2));
            Files.delete(tmp);
        } while (Files.exists(fan));
        try (SmallDisk disk = SmallDisk.mount(fan, 64 << 10)) {
            refused(zip, "adapter.zip", "full", 507, "the adapter store has no room for " + zip.length + " more bytes",
                    "insufficient_storage");
            try (Stream<Path> left = Files.list(fan)) {
                assertThat(left).isEmpty();
            }
        } finally {
            Files.deleteIfExists(fan);
        }
    }
}
