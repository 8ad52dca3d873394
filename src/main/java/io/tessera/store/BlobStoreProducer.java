package io.tessera.store;

import io.tessera.config.StoreConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The configured blob store: filesystem by default, S3-compatible with {@code tessera.store.type=s3}, through the
 * client the quarkus-amazon-s3 extension builds from {@code quarkus.s3.*} (endpoint, region, credentials, timeouts).
 */
@ApplicationScoped
public class BlobStoreProducer {

    @Produces
    @ApplicationScoped
    BlobStore blobStore(StoreConfig config, Instance<S3Client> client) {
        return switch (config.type()) {
            case FS -> new FileSystemBlobStore(Path.of(config.root()), config.minFreeBytes());
            case S3 -> {
                String bucket = config.s3().bucket().orElseThrow(() -> new IllegalStateException(
                        "tessera.store.type=s3 needs tessera.store.s3.bucket"));
                S3BlobStore s3 = new S3BlobStore(client.get(), bucket, config.s3().prefix().orElse(""));
                try {
                    s3.createBucketIfMissing();   // a fresh MinIO or test server has none; an existing bucket is left alone
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                yield s3;
            }
        };
    }
}
