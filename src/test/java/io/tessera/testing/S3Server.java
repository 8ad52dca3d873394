package io.tessera.testing;

import com.robothy.s3.rest.LocalS3;
import com.robothy.s3.rest.bootstrap.LocalS3Mode;
import io.tessera.store.BlobStoreProducer;
import io.tessera.store.S3BlobStore;
import io.tessera.store.StoreConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/** An in-process S3-compatible server (LocalS3, in memory) with one bucket. */
public final class S3Server implements AutoCloseable {
    public static final String BUCKET = "adapters";
    private final LocalS3 server;

    public S3Server() throws IOException {
        server = LocalS3.builder().port(-1).mode(LocalS3Mode.IN_MEMORY).build();
        server.start();
        store().createBucketIfMissing();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getPort();
    }

    /** The store as the service builds it from tessera.store.s3.*. */
    public S3BlobStore store() {
        return store(endpoint(), Duration.ofSeconds(10));
    }

    /** A store for any endpoint, with this server's bucket, prefix and credentials. */
    public static S3BlobStore store(String endpoint, Duration timeout) {
        return BlobStoreProducer.s3(new StoreConfig.S3() {
            public Optional<String> endpoint() {
                return Optional.of(endpoint);
            }

            public Optional<String> bucket() {
                return Optional.of(BUCKET);
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

            public Duration timeout() {
                return timeout;
            }
        });
    }

    @Override
    public void close() {
        server.shutdown();
    }
}
