package io.tessera.api.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import io.quarkus.test.junit.QuarkusTest;
import io.tessera.adapters.AdapterVersion;
import io.tessera.adapters.Archives;
import io.tessera.adapters.Archives.Link;
import io.tessera.adapters.Db;
import io.tessera.adapters.RegisteredAdapter;
import io.tessera.engine.safetensors.SafetensorsWriter;
import io.tessera.store.BlobStore;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each refused upload answers 4xx naming the problem, and leaves no row and no blob behind. */
@QuarkusTest
class BadUploadTest {
    @Inject
    BlobStore blobs;

    private static Map<String, Object> lora() throws IOException {
        return Archives.filesOf(AdminApi.SEED.resolve("research-lora"));
    }

    private void refused(byte[] archive, String name, int status, String message) throws IOException {
        String[] t = AdminApi.newTenant("bad");
        List<BlobStore.Blob> before = blobs.list();
        AdminApi.upload(t[1], null, name, archive, "adapter.zip", null).then().statusCode(status)
                .body("error.message", containsString(message)).body("error.type", org.hamcrest.Matchers.equalTo("invalid_request_error"));
        assertThat(Db.tx(() -> RegisteredAdapter.count("tenant.name", t[0]))).isZero();
        assertThat(Db.tx(() -> AdapterVersion.count("adapter.tenant.name", t[0]))).isZero();
        assertThat(blobs.list()).containsExactlyInAnyOrderElementsOf(before);
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
}
