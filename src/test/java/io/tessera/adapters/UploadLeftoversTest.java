package io.tessera.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.tessera.config.RegistryConfig;
import io.tessera.config.StoreConfig;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * What a crash during uploads leaves (unpack directories, spooled multipart bodies, half-copied blobs) is swept
 * when it is older than the process; anything newer, or not named as ours, stays.
 */
@QuarkusTest
class UploadLeftoversTest {
    private static final FileTime BEFORE_START = FileTime.from(Instant.now().minus(Duration.ofDays(1)));

    @Inject
    UploadLeftovers leftovers;
    @Inject
    RegistryConfig registry;
    @Inject
    StoreConfig store;

    @Test
    void leftoversOlderThanTheProcessAreSweptAndNothingElse() throws IOException {
        Path work = Path.of(registry.workDir());
        Path multipart = Path.of(ConfigProvider.getConfig().getValue("quarkus.http.body.uploads-directory", String.class));
        assertThat(multipart).startsWith(work);   // per replica, not a /tmp other processes share
        Path fan = Path.of(store.root(), "blobs/sha256/fe");

        Path oldUpload = aged(file(work.resolve("upload-1/unpacked/adapter_config.json")).getParent().getParent());
        // an old directory in which a file is still being written belongs to a live upload
        Path busyUpload = aged(file(work.resolve("upload-2/unpacked/adapter_model.safetensors")).getParent().getParent());
        Files.setLastModifiedTime(busyUpload.resolve("unpacked/adapter_model.safetensors"), FileTime.from(Instant.now()));
        Path freshUpload = file(work.resolve("upload-3/unpacked/adapter_config.json")).getParent().getParent();
        Path oldUnpack = aged(file(work.resolve("adapters/.unpack-1/blob")).getParent());
        Path oldBody = aged(file(multipart.resolve(UUID.randomUUID().toString())));
        Path freshBody = file(multipart.resolve(UUID.randomUUID().toString()));
        Path notABody = aged(file(multipart.resolve("notes.txt")));
        Path oldPartial = aged(file(fan.resolve(".upload-1.tmp")));
        Path freshPartial = file(fan.resolve(".upload-2.tmp"));
        Path notOurs = aged(file(work.resolve("notes.txt")));

        // everything older was swept when the application started: only these four are left to find
        assertThat(leftovers.sweep(UploadLeftovers.processStart())).isEqualTo(4);
        for (Path gone : List.of(oldUpload, oldUnpack, oldBody, oldPartial)) {
            assertThat(gone).as("swept").doesNotExist();
        }
        for (Path kept : List.of(busyUpload, freshUpload, freshBody, notABody, freshPartial, notOurs)) {
            assertThat(kept).as("kept").exists();
        }
        for (Path p : List.of(busyUpload, freshUpload)) {
            AdapterRegistry.deleteTree(p);
        }
        for (Path p : List.of(freshBody, notABody, freshPartial, notOurs)) {
            Files.delete(p);
        }
    }

    private static Path file(Path p) throws IOException {
        Files.createDirectories(p.getParent());
        return Files.write(p, new byte[] {1});
    }

    /** Gives every file and directory under {@code p} a modification time from before this process started. */
    private static Path aged(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.toList()) {
                Files.setLastModifiedTime(f, BEFORE_START);
            }
        }
        return p;
    }
}
