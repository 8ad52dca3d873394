package io.tessera.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
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

    /** Where in the bucket; the client itself (endpoint, region, credentials, timeouts) is set by quarkus.s3.*. */
    interface S3 {
        /** The bucket (created at start when missing). */
        Optional<String> bucket();

        /** Key prefix inside the bucket; absent: none. */
        Optional<String> prefix();
    }
}
