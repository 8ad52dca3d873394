package io.tessera.cluster;

import io.tessera.config.ClusterConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;

/**
 * Per-tenant requests and tokens per minute, counted in fixed one-minute windows shared by all replicas. Policy
 * when Redis is down: serve without limits and log (an outage of the counter store must not stop inference).
 */
@ApplicationScoped
public class RateLimiter {
    private static final Duration WINDOW_TTL = Duration.ofMinutes(2);

    /** A tenant's limits per minute; 0 is unlimited. */
    public record Limits(int requestsPerMinute, int tokensPerMinute) {
    }

    @Inject
    Counters counters;
    @Inject
    ClusterConfig config;
    /** What cuts the windows; tests set it. */
    Clock clock = Clock.systemUTC();

    /** The tenant's own limits where set, else the configured defaults. */
    public Limits limits(Integer requestsPerMinute, Integer tokensPerMinute) {
        return new Limits(requestsPerMinute != null ? requestsPerMinute : config.requestsPerMinute(),
                tokensPerMinute != null ? tokensPerMinute : config.tokensPerMinute());
    }

    /** Counts a request against the tenant; throws {@link RateLimitedException} when over a limit. */
    public void admit(long tenantId, Limits limits) {
        if (limits.requestsPerMinute() == 0 && limits.tokensPerMinute() == 0) {
            return;
        }
        long now = clock.instant().getEpochSecond();
        String window = "tessera:rl:" + tenantId + ":" + now / 60;
        long retryAfter = 60 - now % 60;
        try {
            if (limits.tokensPerMinute() > 0 && counters.get(window + ":tokens") >= limits.tokensPerMinute()) {
                throw new RateLimitedException("tokens per minute limit of " + limits.tokensPerMinute() + " reached", retryAfter);
            }
            if (limits.requestsPerMinute() > 0
                    && counters.increment(window + ":requests", 1, WINDOW_TTL) > limits.requestsPerMinute()) {
                throw new RateLimitedException("requests per minute limit of " + limits.requestsPerMinute() + " reached", retryAfter);
            }
        } catch (Counters.RedisDownException e) {
            counters.warnDown("rate limits are not enforced", e);
        }
    }

    /** Counts tokens a finished request used (prompt and completion) in the current window. */
    public void spent(long tenantId, long tokens) {
        long now = clock.instant().getEpochSecond();
        try {
            counters.increment("tessera:rl:" + tenantId + ":" + now / 60 + ":tokens", tokens, WINDOW_TTL);
        } catch (Counters.RedisDownException e) {
            counters.warnDown("rate limits are not enforced", e);
        }
    }
}
