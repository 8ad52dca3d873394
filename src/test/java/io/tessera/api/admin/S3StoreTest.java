package io.tessera.api.admin;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.tessera.adapters.AdapterFiles;
import io.tessera.testing.S3StoreProfile;
import jakarta.inject.Inject;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** With tessera.store.type=s3 the weights go to the bucket and come back from it. */
@QuarkusTest
@TestProfile(S3StoreProfile.class)
class S3StoreTest {
    @Inject
    AdapterFiles files;

    @Test
    void uploadsLandInTheBucket() throws IOException {
        String[] t = AdminApi.newTenant("s3");
        AdminApi.upload(t[1], null, "research-lora", AdminApi.seedZip("research-lora"), "r.zip", null).then().statusCode(201);
        String sha = given().auth().oauth2(t[1]).get("/v1/admin/adapters/research-lora").then().statusCode(200)
                .extract().path("versions[0].sha256");
        assertThat(S3StoreProfile.server().store().exists(sha)).isTrue();
        files.evict(sha);
        assertThat(files.dir(sha).resolve("adapter_model.safetensors")).exists();
    }
}
