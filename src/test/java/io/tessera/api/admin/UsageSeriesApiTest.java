package io.tessera.api.admin;

import static io.restassured.RestAssured.given;
import static io.tessera.api.admin.AdminApi.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.tessera.usage.UsageLedger;
import io.tessera.usage.UsageSeries;
import io.tessera.usage.UsageSeries.Range;
import io.tessera.usage.UsageSeries.Series;
import jakarta.inject.Inject;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** Usage over time: per-minute rows from real completions, the series endpoint, roll-up and tenant deletion. */
@QuarkusTest
class UsageSeriesApiTest {
    @Inject
    UsageLedger ledger;
    @Inject
    UsageSeries series;
    @Inject
    DataSource dataSource;

    /** What one completion's response said it used. */
    private record Used(long promptTokens, long completionTokens) {
    }

    private static Used complete(String key, String model, String prompt, int maxTokens) {
        JsonPath r = given().auth().oauth2(key).contentType("application/json")
                .body(Map.of("model", model, "prompt", prompt, "max_tokens", maxTokens, "temperature", 0))
                .post("/v1/completions").then().statusCode(200).extract().jsonPath();
        return new Used(r.getLong("usage.prompt_tokens"), r.getLong("usage.completion_tokens"));
    }

    private static JsonPath series(String key, String range, String tenant) {
        var req = given().auth().oauth2(key).queryParam("range", range);
        if (tenant != null) {
            req = req.queryParam("tenant", tenant);
        }
        return req.get("/v1/admin/usage/series").then().statusCode(200).extract().jsonPath();
    }

    /** The points of {@code model} in a series answer, as (t, requests, prompt, completion) maps. */
    private static List<Map<String, Number>> points(JsonPath s, String model) {
        List<Map<String, Number>> p = s.getList("series.find { it.model == '" + model + "' }.points");
        return p == null ? List.of() : p;
    }

    private static long sum(List<Map<String, Number>> points, String field) {
        return points.stream().mapToLong(p -> p.get(field).longValue()).sum();
    }

    /** Waits for the charges (written in the background) to reach the ledger and writes them to Postgres. */
    private void awaitRequests(String key, String model, long requests) {
        await("usage of " + model + " written").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> ledger.flush() && sum(points(series(key, "hour", null), model), "requests") == requests);
    }

    @Test
    void completionsShowUpUnderTheirModelAndMinuteWithExactTokens() throws IOException {
        String[] a = AdminApi.newTenant("usage-a");
        String[] b = AdminApi.newTenant("usage-b");
        String adapter = "usage-" + UUID.randomUUID().toString().substring(0, 8);
        for (String[] t : List.of(a, b)) {
            AdminApi.upload(ADMIN, t[0], adapter, AdminApi.seedZip("research-lora"), "adapter.zip", null).then().statusCode(201);
        }
        long before = Instant.now().getEpochSecond();
        Used a1 = complete(a[1], adapter, "The cat sat", 5);
        Used a2 = complete(a[1], adapter + "@01", "Hello there", 7);   // counted as the registry numbers it: @1
        Used a3 = complete(a[1], "demo-llama", "One two three", 3);
        Used b1 = complete(b[1], adapter, "Another tenant", 4);
        awaitRequests(a[1], adapter, 1);
        awaitRequests(a[1], adapter + "@1", 1);
        awaitRequests(a[1], "demo-llama", 1);
        awaitRequests(b[1], adapter, 1);
        long after = Instant.now().getEpochSecond();   // the charges are counted when written, just after the answers

        JsonPath s = series(a[1], "hour", null);
        assertThat(s.getString("range")).isEqualTo("hour");
        assertThat(s.getInt("bucket_seconds")).isEqualTo(60);
        assertThat(s.getLong("end") - s.getLong("start")).isEqualTo(3600);
        assertThat(s.getLong("end")).isGreaterThan(after).isLessThanOrEqualTo(after + 60);
        // the tenant's own models, sorted, each point in the minutes the requests ran, with the tokens they reported
        assertThat(s.<String>getList("series.model")).containsExactly("demo-llama", adapter, adapter + "@1");
        for (var e : Map.of(adapter, a1, adapter + "@1", a2, "demo-llama", a3).entrySet()) {
            List<Map<String, Number>> p = points(s, e.getKey());
            assertThat(p).allSatisfy(pt -> assertThat(pt.get("t").longValue() % 60).isZero())
                    .allSatisfy(pt -> assertThat(pt.get("t").longValue()).isBetween(before / 60 * 60, after / 60 * 60));
            assertThat(sum(p, "requests")).isEqualTo(1);
            assertThat(sum(p, "prompt_tokens")).isEqualTo(e.getValue().promptTokens());
            assertThat(sum(p, "completion_tokens")).isEqualTo(e.getValue().completionTokens());
        }
        // the day by hour holds the same
        JsonPath day = series(a[1], "day", null);
        assertThat(day.getInt("bucket_seconds")).isEqualTo(3600);
        assertThat(day.getLong("end") - day.getLong("start")).isEqualTo(24 * 3600);
        assertThat(points(day, adapter)).allSatisfy(pt -> assertThat(pt.get("t").longValue() % 3600).isZero());
        assertThat(sum(points(day, adapter), "completion_tokens")).isEqualTo(a1.completionTokens());

        // B sees only its own, and may not name A; the admin sees each, and both summed without a tenant
        JsonPath sb = series(b[1], "hour", null);
        assertThat(sb.<String>getList("series.model")).containsExactly(adapter);
        assertThat(sum(points(sb, adapter), "prompt_tokens")).isEqualTo(b1.promptTokens());
        given().auth().oauth2(b[1]).queryParam("range", "hour").queryParam("tenant", a[0]).get("/v1/admin/usage/series")
                .then().statusCode(403);
        assertThat(sum(points(series(ADMIN, "hour", a[0]), adapter), "completion_tokens")).isEqualTo(a1.completionTokens());
        JsonPath all = series(ADMIN, "hour", null);
        assertThat(sum(points(all, adapter), "requests")).isEqualTo(2);
        assertThat(sum(points(all, adapter), "completion_tokens")).isEqualTo(a1.completionTokens() + b1.completionTokens());
        assertThat(all.<String>getList("series.model")).isSorted();
    }

    @Test
    void badRangeAndUnknownTenantAreRefused() {
        String[] a = AdminApi.newTenant("usage-bad");
        for (String range : new String[] {"week", "HOUR", ""}) {
            given().auth().oauth2(a[1]).queryParam("range", range).get("/v1/admin/usage/series").then().statusCode(400)
                    .body("error.type", equalTo("invalid_request_error")).body("error.param", equalTo("range"));
        }
        given().auth().oauth2(a[1]).get("/v1/admin/usage/series").then().statusCode(400).body("error.param", equalTo("range"));
        given().auth().oauth2(ADMIN).queryParam("range", "day").queryParam("tenant", "no-such-tenant-" + UUID.randomUUID())
                .get("/v1/admin/usage/series").then().statusCode(404);
        given().queryParam("range", "day").get("/v1/admin/usage/series").then().statusCode(401);
    }

    @Test
    void rollUpMovesOldMinutesIntoHoursWithoutChangingTotals() throws SQLException {
        String[] t = AdminApi.newTenant("usage-rollup");
        long id = tenantId(t[0]);
        Instant now = Instant.now();
        long hour = (now.getEpochSecond() / 3600 - 4) * 3600;   // four hours ago: rolled up
        insert("usage_minute", "minute", id, "m", hour + 60, 1, 10, 20);
        insert("usage_minute", "minute", id, "m", hour + 1800, 2, 30, 40);
        insert("usage_minute", "minute", id, "m", hour + 3600 + 120, 4, 50, 60);   // the next hour
        insert("usage_hour", "hour", id, "m", hour, 8, 70, 80);   // already rolled up before
        long recent = now.getEpochSecond() / 60 * 60;             // this minute: stays
        insert("usage_minute", "minute", id, "m", recent, 16, 90, 100);
        insert("usage_hour", "hour", id, "m", hour - Duration.ofDays(31).toSeconds(), 1, 1, 1);   // past the retention

        Series before = series.of(Range.DAY, id, now);
        assertThat(before.series()).singleElement().satisfies(m -> assertThat(m.points()).hasSize(3));
        ledger.rollUp(now);
        Series after = series.of(Range.DAY, id, now);
        assertThat(after).isEqualTo(before);
        assertThat(after.series().get(0).points().get(0)).isEqualTo(new UsageSeries.Point(hour, 11, 110, 140));
        assertThat(count("select count(*) from usage_minute where tenant_id = ?", id)).isEqualTo(1);
        assertThat(count("select count(*) from usage_hour where tenant_id = ?", id)).isEqualTo(2);
        // again: nothing left to move
        ledger.rollUp(now);
        assertThat(series.of(Range.DAY, id, now)).isEqualTo(before);
        assertThat(series.of(Range.HOUR, id, now).series()).singleElement()
                .satisfies(m -> assertThat(m.points()).containsExactly(new UsageSeries.Point(recent, 16, 90, 100)));
    }

    @Test
    void deletingATenantDeletesItsUsage() throws SQLException {
        String[] t = AdminApi.newTenant("usage-gone");
        long id = tenantId(t[0]);
        complete(t[1], "demo-llama", "Gone soon", 2);
        awaitRequests(t[1], "demo-llama", 1);
        insert("usage_hour", "hour", id, "demo-llama", Instant.now().getEpochSecond() / 3600 * 3600 - 7200, 1, 1, 1);
        given().auth().oauth2(ADMIN).delete("/v1/admin/tenants/" + t[0]).then().statusCode(204);
        assertThat(count("select count(*) from usage_minute where tenant_id = ?", id)).isZero();
        assertThat(count("select count(*) from usage_hour where tenant_id = ?", id)).isZero();
        // usage counted for it and not written yet is dropped with it, and does not hold up the others' writes
        ledger.add(id, "demo-llama", Instant.now(), 1, 1, 1);
        assertThat(ledger.flush()).isTrue();
        assertThat(count("select count(*) from usage_minute where tenant_id = ?", id)).isZero();
    }

    @Test
    void liveNumbersAfterACompletion() {
        String[] t = AdminApi.newTenant("usage-live");
        complete(t[1], "demo-llama", "Live numbers", 6);
        for (String key : new String[] {t[1], ADMIN}) {
            JsonPath live = given().auth().oauth2(key).get("/v1/admin/live").then().statusCode(200).extract().jsonPath();
            assertThat(live.getDouble("tokens_per_second")).isPositive();
            assertThat(live.getInt("queue_depth")).isNotNegative();
            assertThat(live.getInt("running")).isNotNegative();
            assertThat(live.getInt("resident_adapters")).isNotNegative();
            assertThat(live.getLong("resident_adapter_bytes")).isNotNegative();
            assertThat(live.getLong("adapter_budget_bytes")).isEqualTo(1L << 30);
        }
        given().get("/v1/admin/live").then().statusCode(401);
    }

    private long tenantId(String name) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("select id from tenant where name = ?")) {
            s.setString(1, name);
            try (ResultSet r = s.executeQuery()) {
                assertThat(r.next()).isTrue();
                return r.getLong(1);
            }
        }
    }

    private long count(String sql, long id) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
            s.setLong(1, id);
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return r.getLong(1);
            }
        }
    }

    private void insert(String table, String column, long tenantId, String model, long t, long requests, long prompt,
                        long completion) throws SQLException {
        String sql = "insert into " + table + " (tenant_id, model, " + column
                + ", requests, prompt_tokens, completion_tokens) values (?, ?, ?, ?, ?, ?)";
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
            s.setLong(1, tenantId);
            s.setString(2, model);
            s.setObject(3, Instant.ofEpochSecond(t).atOffset(ZoneOffset.UTC));
            s.setLong(4, requests);
            s.setLong(5, prompt);
            s.setLong(6, completion);
            s.executeUpdate();
        }
    }
}
