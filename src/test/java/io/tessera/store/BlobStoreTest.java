package io.tessera.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.S3Server;
import io.tessera.testing.SmallDisk;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same contract for both stores; S3 against an in-process S3-compatible server. */
class BlobStoreTest {
    private static final String SHA = "ab" + "0".repeat(62);
    private static S3Server s3;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startS3() throws IOException {
        s3 = new S3Server();
    }

    @AfterAll
    static void stopS3() {
        s3.close();
    }

    @Test
    void fileSystem() throws IOException {
        FileSystemBlobStore store = new FileSystemBlobStore(tmp.resolve("store"), 0);
        contract(store);
        assertThat(tmp.resolve("store/blobs/sha256/ab/" + SHA)).doesNotExist();
    }

    @Test
    void s3() throws IOException {
        S3BlobStore store = s3.store();
        contract(store);
    }

    @Test
    void aStalledS3EndpointFailsWithinItsTimeout() throws IOException {
        // the kernel accepts connections into the backlog, nothing ever answers: a store that hangs
        try (ServerSocket stalled = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            S3BlobStore store = S3Server.store("http://127.0.0.1:" + stalled.getLocalPort(), Duration.ofMillis(300));
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> store.get(SHA, tmp.resolve("got"))).isInstanceOf(IOException.class)
                    .hasMessageContaining("S3 get");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
            assertThat(tmp.resolve("got")).doesNotExist();
        }
    }

    @Test
    void aFullDiskRefusesTheBlobAndKeepsNothingOfIt() throws IOException {
        Path src = Files.write(tmp.resolve("src"), new byte[1 << 20]);
        Path root = tmp.resolve("small");
        try (SmallDisk disk = SmallDisk.mount(root, 256 << 10)) {
            // no reserve: the copy itself runs out of space
            FileSystemBlobStore store = new FileSystemBlobStore(root, 0);
            assertThatThrownBy(() -> store.put(SHA, src)).isInstanceOf(InsufficientStorageException.class)
                    .hasMessageContaining("the adapter store is out of disk space");
            assertThat(store.exists(SHA)).isFalse();
            assertThat(filesUnder(root)).isZero();
            // a blob that fits is still stored
            store.put(SHA, Files.write(tmp.resolve("small-src"), "weights".getBytes()));
            assertThat(store.exists(SHA)).isTrue();
        }
    }

    @Test
    void aBlobThatWouldEatTheReserveIsRefusedBeforeItIsWritten() throws IOException {
        Path src = Files.write(tmp.resolve("src"), "weights".getBytes());
        long free = Files.getFileStore(tmp).getUsableSpace();
        FileSystemBlobStore store = new FileSystemBlobStore(tmp.resolve("store"), free);
        assertThatThrownBy(() -> store.put(SHA, src)).isInstanceOf(InsufficientStorageException.class)
                .hasMessageContaining("the adapter store has no room for 7 more bytes");
        assertThat(filesUnder(tmp.resolve("store"))).isZero();
    }

    @Test
    void partialBlobsOlderThanTheCutoffAreSwept() throws IOException {
        FileSystemBlobStore store = new FileSystemBlobStore(tmp.resolve("store"), 0);
        Path dir = Files.createDirectories(tmp.resolve("store/blobs/sha256/ab"));
        Path old = Files.write(dir.resolve(".upload-123.tmp"), new byte[1]);
        Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        Path fresh = Files.write(dir.resolve(".upload-456.tmp"), new byte[1]);
        store.put(SHA, Files.write(tmp.resolve("src"), "weights".getBytes()));
        Files.setLastModifiedTime(dir.resolve(SHA), FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        assertThat(store.sweepPartial(Instant.now().minus(Duration.ofMinutes(1)))).isEqualTo(1);
        assertThat(old).doesNotExist();
        assertThat(fresh).exists();
        assertThat(store.exists(SHA)).isTrue();
    }

    private static long filesUnder(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).count();
        }
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
