package io.tessera.store;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/** The configured blob store: filesystem by default, S3-compatible with {@code tessera.store.type=s3}. */
@ApplicationScoped
public class BlobStoreProducer {

    @Produces
    @ApplicationScoped
    BlobStore blobStore(StoreConfig config) {
        return switch (config.type()) {
            case FS -> new FileSystemBlobStore(Path.of(config.root()), config.minFreeBytes());
            case S3 -> {
                S3BlobStore s3 = s3(config.s3());
                try {
                    s3.createBucketIfMissing();   // a fresh MinIO or test server has none; an existing bucket is left alone
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                yield s3;
            }
        };
    }

    public static S3BlobStore s3(StoreConfig.S3 c) {
        String bucket = c.bucket().orElseThrow(() -> new IllegalStateException(
                "tessera.store.type=s3 needs tessera.store.s3.bucket"));
        S3ClientBuilder b = S3Client.builder()
                .httpClient(UrlConnectionHttpClient.builder().connectionTimeout(c.timeout()).socketTimeout(c.timeout()).build())
                .region(Region.of(c.region()))
                .forcePathStyle(c.pathStyle());
        c.endpoint().ifPresent(e -> b.endpointOverride(URI.create(e)));
        if (c.accessKeyId().isPresent()) {
            b.credentialsProvider(StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(c.accessKeyId().get(), c.secretAccessKey().orElse(""))));
        } else {
            b.credentialsProvider(DefaultCredentialsProvider.builder().build());
        }
        return new S3BlobStore(b.build(), bucket, c.prefix().orElse(""));
    }
}
