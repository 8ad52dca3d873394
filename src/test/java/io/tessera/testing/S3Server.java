package io.tessera.testing;

import com.robothy.s3.rest.LocalS3;
import com.robothy.s3.rest.bootstrap.LocalS3Mode;
import io.tessera.store.S3BlobStore;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** An in-process S3-compatible server (LocalS3, in memory) with one bucket. */
public final class S3Server implements AutoCloseable {
    public static final String BUCKET = "adapters";
    public static final String PREFIX = "tessera";
    /** Static credentials: LocalS3 takes any. */
    public static final String KEY = "test";
    private final LocalS3 server;

    public S3Server() throws IOException {
        server = LocalS3.builder().port(-1).mode(LocalS3Mode.IN_MEMORY).build();
        server.start();
        store().createBucketIfMissing();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getPort();
    }

    /** The store on this server, as the service has it with S3StoreProfile's settings. */
    public S3BlobStore store() {
        return store(endpoint(), Duration.ofSeconds(10));
    }

    /**
     * A store for any endpoint, with this server's bucket, prefix and credentials, on a client set up as
     * application.properties sets the extension's (URL connection client, path-style, the timeout per attempt).
     */
    public static S3BlobStore store(String endpoint, Duration timeout) {
        S3Client client = S3Client.builder()
                .httpClient(UrlConnectionHttpClient.builder().connectionTimeout(timeout).socketTimeout(timeout).build())
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .endpointOverride(URI.create(endpoint))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(KEY, KEY)))
                .build();
        return new S3BlobStore(client, BUCKET, PREFIX);
    }

    @Override
    public void close() {
        server.shutdown();
    }
}
