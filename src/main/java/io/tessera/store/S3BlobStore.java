package io.tessera.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;

/** Blobs as objects in an S3-compatible bucket, under an optional key prefix. */
public final class S3BlobStore implements BlobStore {
    private final S3Client s3;
    private final String bucket;
    private final String prefix;

    public S3BlobStore(S3Client s3, String bucket, String prefix) {
        this.s3 = s3;
        this.bucket = bucket;
        this.prefix = prefix.isEmpty() || prefix.endsWith("/") ? prefix : prefix + "/";
    }

    /** For a fresh deployment or test: makes the bucket when it is not there. */
    public void createBucketIfMissing() throws IOException {
        try {
            s3.headBucket(b -> b.bucket(bucket));
        } catch (NoSuchBucketException e) {
            s3.createBucket(b -> b.bucket(bucket));
        } catch (SdkException e) {
            throw new IOException("S3 bucket " + bucket + ": " + e.getMessage(), e);
        }
    }

    private String objectKey(String sha256) {
        return prefix + BlobStore.key(sha256);
    }

    @Override
    public void put(String sha256, Path file) throws IOException {
        try {
            // written even when present: a fresh modification time keeps the sweeper off it while this upload commits
            s3.putObject(b -> b.bucket(bucket).key(objectKey(sha256)), RequestBody.fromFile(file));
        } catch (SdkException e) {
            throw new IOException("S3 put " + objectKey(sha256) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void get(String sha256, Path target) throws IOException {
        Path tmp = Files.createTempFile(target.toAbsolutePath().getParent(), ".blob-", ".tmp");
        try {
            Files.delete(tmp);   // the SDK refuses to overwrite
            s3.getObject(b -> b.bucket(bucket).key(objectKey(sha256)), tmp);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        } catch (NoSuchKeyException e) {
            throw new NoSuchFileException(objectKey(sha256));
        } catch (SdkException e) {
            throw new IOException("S3 get " + objectKey(sha256) + ": " + e.getMessage(), e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public boolean exists(String sha256) throws IOException {
        try {
            s3.headObject(b -> b.bucket(bucket).key(objectKey(sha256)));
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
            if (e.statusCode() == 404) {
                return false;
            }
            throw new IOException("S3 head " + objectKey(sha256) + ": " + e.getMessage(), e);
        } catch (SdkException e) {
            throw new IOException("S3 head " + objectKey(sha256) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void delete(String sha256) throws IOException {
        try {
            s3.deleteObject(b -> b.bucket(bucket).key(objectKey(sha256)));
        } catch (SdkException e) {
            throw new IOException("S3 delete " + objectKey(sha256) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<Blob> list() throws IOException {
        List<Blob> out = new ArrayList<>();
        try {
            for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix + "blobs/sha256/")).contents()) {
                String name = o.key().substring(o.key().lastIndexOf('/') + 1);
                if (SHA256.matcher(name).matches()) {
                    out.add(new Blob(name, o.size(), o.lastModified()));
                }
            }
        } catch (SdkException e) {
            throw new IOException("S3 list " + bucket + ": " + e.getMessage(), e);
        }
        return out;
    }
}
