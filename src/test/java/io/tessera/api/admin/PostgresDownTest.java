package io.tessera.api.admin;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.tessera.api.RegistryInferenceTest;
import io.tessera.testing.OwnPostgresProfile;
import io.tessera.usage.UsageLedger;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Postgres stops under a running service: adapters already resident keep serving (also past the resolution and
 * key cache lifetimes), admin calls answer 503, usage waits in memory, and everything recovers when it is back.
 */
@QuarkusTest
@TestProfile(OwnPostgresProfile.class)
class PostgresDownTest {
    @Inject
    UsageLedger ledger;

    @Test
    void residentAdaptersServeAdminAnswers503AndAllRecovers() throws Exception {
        String[] t = AdminApi.newTenant("pgdown");
        AdminApi.upload(t[1], null, "research-lora", AdminApi.seedZip("research-lora"), "r.zip", null).then().statusCode(201);
        String greedy = RegistryInferenceTest.reference("research-lora");
        assertThat(RegistryInferenceTest.text(t[1], "research-lora")).isEqualTo(greedy);

        OwnPostgresProfile.postgres().stop();
        try {
            assertThat(RegistryInferenceTest.text(t[1], "research-lora")).isEqualTo(greedy);
            Instant start = Instant.now();
            given().auth().oauth2(AdminApi.ADMIN).get("/v1/admin/tenants").then().statusCode(503)
                    .body("error.type", equalTo("service_unavailable"));
            given().auth().oauth2(AdminApi.ADMIN).get("/v1/admin/adapters?tenant=" + t[0]).then().statusCode(503);
            // the tenant key was resolved before: it still authenticates, and the call fails on the database
            given().auth().oauth2(t[1]).get("/v1/admin/adapters").then().statusCode(503);
            assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofSeconds(30));
            // past the resolution lifetime (test profile: 1 s) the last answer stands while Postgres is away: time
            // itself has to pass here, there is nothing to wait for
            Thread.sleep(1500);
            assertThat(RegistryInferenceTest.text(t[1], "research-lora")).isEqualTo(greedy);
            RegistryInferenceTest.complete(t[1], "demo-llama").then().statusCode(200);
            // the usage counted meanwhile waits in memory: writing it fails and keeps it for the next try
            await("a usage write fails").atMost(Duration.ofSeconds(30)).until(() -> !ledger.flush());
            given().auth().oauth2(t[1]).queryParam("range", "hour").get("/v1/admin/usage/series").then().statusCode(503);
        } finally {
            OwnPostgresProfile.postgres().resume();
        }
        await("admin calls answer again").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> given().auth().oauth2(t[1]).get("/v1/admin/adapters").statusCode() == 200);
        given().auth().oauth2(t[1]).get("/v1/admin/adapters").then().statusCode(200).body("data.name", hasItem("research-lora"));
        // nothing lost: three research-lora requests of 32 tokens each (one before the outage), one of the base model
        await("the kept usage is written").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> given().auth().oauth2(t[1]).queryParam("range", "hour").get("/v1/admin/usage/series")
                        .then().statusCode(200).extract().jsonPath().getList("series").size() == 2);
        var series = given().auth().oauth2(t[1]).queryParam("range", "hour").get("/v1/admin/usage/series").then()
                .extract().jsonPath();
        assertThat(series.getList("series.find { it.model == 'research-lora' }.points.requests", Integer.class)
                .stream().mapToInt(Integer::intValue).sum()).isEqualTo(3);
        assertThat(series.getList("series.find { it.model == 'research-lora' }.points.completion_tokens", Integer.class)
                .stream().mapToInt(Integer::intValue).sum()).isEqualTo(96);
        assertThat(series.getList("series.find { it.model == 'demo-llama' }.points.requests", Integer.class)
                .stream().mapToInt(Integer::intValue).sum()).isEqualTo(1);
        assertThat(RegistryInferenceTest.text(t[1], "research-lora")).isEqualTo(greedy);
        AdminApi.newTenant("pgback");
    }
}
