package io.tessera.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.robothy.s3.rest.LocalS3;
import com.robothy.s3.rest.bootstrap.LocalS3Mode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same contract for both stores; S3 against an in-process S3-compatible server. */
class BlobStoreTest {
    private static final String SHA = "ab" + "0".repeat(62);
    private static LocalS3 s3;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startS3() {
        s3 = LocalS3.builder().port(-1).mode(LocalS3Mode.IN_MEMORY).build();
        s3.start();
    }

    @AfterAll
    static void stopS3() {
        s3.shutdown();
    }

    @Test
    void fileSystem() throws IOException {
        FileSystemBlobStore store = new FileSystemBlobStore(tmp.resolve("store"));
        contract(store);
        assertThat(tmp.resolve("store/blobs/sha256/ab/" + SHA)).doesNotExist();
    }

    @Test
    void s3() throws IOException {
        S3BlobStore store = BlobStoreProducer.s3(new StoreConfig.S3() {
            public Optional<String> endpoint() {
                return Optional.of("http://127.0.0.1:" + s3.getPort());
            }

            public Optional<String> bucket() {
                return Optional.of("adapters");
            }

            public String region() {
                return "us-east-1";
            }

            public boolean pathStyle() {
                return true;
            }

            public Optional<String> prefix() {
                return Optional.of("tessera");
            }

            public Optional<String> accessKeyId() {
                return Optional.of("test");
            }

            public Optional<String> secretAccessKey() {
                return Optional.of("test");
            }
        });
        store.createBucketIfMissing();
        contract(store);
    }

    private void contract(BlobStore store) throws IOException {
        Path src = Files.write(tmp.resolve("src"), "weights".getBytes());
        assertThat(store.exists(SHA)).isFalse();
        assertThat(store.list()).isEmpty();
        store.put(SHA, src);
        store.put(SHA, src);   // idempotent
        assertThat(store.exists(SHA)).isTrue();
        assertThat(store.list()).singleElement().satisfies(b -> {
            assertThat(b.sha256()).isEqualTo(SHA);
            assertThat(b.size()).isEqualTo(7);
        });
        Path got = tmp.resolve("got");
        store.get(SHA, got);
        assertThat(Files.readString(got)).isEqualTo("weights");
        store.delete(SHA);
        assertThat(store.exists(SHA)).isFalse();
        assertThatThrownBy(() -> store.get(SHA, tmp.resolve("none"))).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> store.put("../../etc/passwd", src)).isInstanceOf(IllegalArgumentException.class);
    }
}
