package io.tessera.store;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

@ConfigMapping(prefix = "tessera.store")
public interface StoreConfig {
    String EMBEDDED_POSTGRES_DIR = "data/postgres";

    /**
     * Data directory of the embedded Postgres started when no quarkus.datasource.jdbc.url is configured (read by
     * {@link EmbeddedPostgresConfigFactory} before this mapping exists; declared here so it is a known property).
     */
    @WithDefault(EMBEDDED_POSTGRES_DIR)
    String embeddedPostgresDir();

    /** fs (a directory) or s3 (an S3-compatible bucket). */
    @WithDefault("fs")
    Type type();

    /** The filesystem store's root; blobs go under blobs/sha256/ there. */
    @WithDefault("adapters-store")
    String root();

    /**
     * The filesystem store refuses an upload (507) that would leave less free space than this on its disk, which
     * is often the embedded Postgres's too. 0: no check first (a copy that runs out of space still answers 507).
     */
    @WithDefault("67108864")
    long minFreeBytes();

    S3 s3();

    enum Type { FS, S3 }

    interface S3 {
        /** e.g. http://127.0.0.1:9000 for MinIO; absent: AWS's endpoint for the region. */
        Optional<String> endpoint();

        /** The bucket (created at start when missing). */
        Optional<String> bucket();

        /** The bucket's region. */
        @WithDefault("us-east-1")
        String region();

        /** bucket in the path (most S3-compatible servers) instead of the host name. */
        @WithDefault("true")
        boolean pathStyle();

        /** Key prefix inside the bucket; absent: none. */
        Optional<String> prefix();

        /** Static credentials; absent: the AWS default chain (environment, profile, instance role). */
        Optional<String> accessKeyId();

        /** The secret of the static credentials. */
        Optional<String> secretAccessKey();

        /**
         * Connecting, or waiting for the next bytes of an answer, fails after this long (for each of the SDK's
         * attempts): a cold adapter whose blob a stalled store cannot deliver fails its request within a bounded
         * wait, while adapters already on local disk keep serving.
         */
        @WithDefault("10s")
        Duration timeout();
    }
}
