package io.tessera.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Against the Redis of the test services (TESSERA_TEST_REDIS_URL), or this process's counters without one. The
 * limiter's clock is fixed, so no test depends on where the wall clock is in its minute.
 */
@QuarkusTest
class RateLimiterTest {
    private static final Instant T0 = RateLimiterClock.HALF_MINUTE;

    @Inject
    RateLimiter limiter;
    @Inject
    UsageCounters usage;
    @Inject
    ClusterRedis redis;
    @Inject
    jakarta.enterprise.inject.Instance<io.quarkus.redis.datasource.RedisDataSource> datasource;

    private void at(Instant now) {
        RateLimiterClock.fix(limiter, now);
    }

    @BeforeEach
    void fixTheClock() {
        at(T0);
    }

    @AfterEach
    void freeTheClock() {
        RateLimiterClock.free(limiter);
    }

    private static long tenant() {
        return ThreadLocalRandom.current().nextLong(1_000_000, Long.MAX_VALUE);
    }

    @Test
    void requestsPerMinute() {
        long t = tenant();
        RateLimiter.Limits limits = new RateLimiter.Limits(2, 0);
        limiter.admit(t, limits);
        limiter.admit(t, limits);
        assertThatThrownBy(() -> limiter.admit(t, limits)).isInstanceOfSatisfying(RateLimitedException.class, e -> {
            assertThat(e.getMessage()).contains("requests per minute limit of 2");
            assertThat(e.retryAfterSeconds()).as("until the minute turns").isEqualTo(30);
        });
        limiter.admit(tenant(), limits);   // other tenants are not affected
    }

    @Test
    void theWindowTurnsWithTheMinute() {
        long t = tenant();
        RateLimiter.Limits limits = new RateLimiter.Limits(1, 0);
        at(T0.plusSeconds(29));   // the last second of the minute
        limiter.admit(t, limits);
        assertThatThrownBy(() -> limiter.admit(t, limits)).isInstanceOfSatisfying(RateLimitedException.class,
                e -> assertThat(e.retryAfterSeconds()).isEqualTo(1));
        at(T0.plusSeconds(30));   // the next minute counts from zero
        limiter.admit(t, limits);
        assertThatThrownBy(() -> limiter.admit(t, limits)).isInstanceOfSatisfying(RateLimitedException.class,
                e -> assertThat(e.retryAfterSeconds()).isEqualTo(60));
    }

    @Test
    void tokensPerMinute() {
        long t = tenant();
        RateLimiter.Limits limits = new RateLimiter.Limits(0, 100);
        limiter.admit(t, limits);
        limiter.spent(t, 60);
        limiter.admit(t, limits);
        limiter.spent(t, 60);
        assertThatThrownBy(() -> limiter.admit(t, limits)).isInstanceOf(RateLimitedException.class)
                .hasMessageContaining("tokens per minute limit of 100");
    }

    @Test
    void usagePerTenantAndModel() {
        long t = tenant();
        usage.record(t, "research-lora", 1, 7, 32);
        usage.record(t, "research-lora", 1, 3, 8);
        usage.record(t, "demo-llama", 1, 1, 2);
        assertThat(usage.of(t)).containsEntry("research-lora", new UsageCounters.Usage(2, 10, 40))
                .containsEntry("demo-llama", new UsageCounters.Usage(1, 1, 2));
        assertThat(usage.of(tenant())).isEmpty();
    }

    @Test
    void aWindowKeyHasItsExpiryFromItsFirstIncrement() {
        org.junit.jupiter.api.Assumptions.assumeTrue(redis.configured(), "needs the test Redis");
        long t = tenant();
        limiter.admit(t, new RateLimiter.Limits(5, 0));
        limiter.spent(t, 10);
        var keys = datasource.get().key().keys("tessera:rl:" + t + ":*");
        assertThat(keys).hasSize(2);
        for (String k : keys) {
            assertThat(datasource.get().key().pttl(k)).as(k).isBetween(1L, 120_000L);
        }
    }
}
