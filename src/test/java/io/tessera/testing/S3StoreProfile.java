package io.tessera.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.List;
import java.util.Map;

/** The application with tessera.store.type=s3 on an in-process S3-compatible server ({@link #server()}). */
public class S3StoreProfile implements QuarkusTestProfile {
    private static S3Server server;

    public static S3Server server() {
        return server;
    }

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(Resource.class));
    }

    public static class Resource implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            try {
                server = new S3Server();
            } catch (Exception e) {
                throw new IllegalStateException("in-process S3 did not start", e);
            }
            return Map.of("tessera.store.type", "s3", "quarkus.s3.endpoint-override", server.endpoint(),
                    "tessera.store.s3.bucket", S3Server.BUCKET, "tessera.store.s3.prefix", S3Server.PREFIX,
                    "quarkus.s3.aws.credentials.type", "static",
                    "quarkus.s3.aws.credentials.static-provider.access-key-id", S3Server.KEY,
                    "quarkus.s3.aws.credentials.static-provider.secret-access-key", S3Server.KEY,
                    "tessera.registry.work-dir", "target/test-work-s3");
        }

        @Override
        public void stop() {
            server.close();
        }
    }
}
