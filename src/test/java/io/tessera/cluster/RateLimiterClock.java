package io.tessera.cluster;

import io.quarkus.arc.ClientProxy;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

/** For tests in any package: stops the limiter's clock, so that no test depends on where the wall clock is in its minute. */
public final class RateLimiterClock {
    /** 30 s into a minute. */
    public static final Instant HALF_MINUTE = Instant.parse("2026-01-01T00:00:30Z");

    private RateLimiterClock() {
    }

    /** The limiter's windows are cut at {@code now} until {@link #free}. */
    public static void fix(RateLimiter limiter, Instant now) {
        ClientProxy.unwrap(limiter).clock = Clock.fixed(now, ZoneOffset.UTC);
    }

    public static void free(RateLimiter limiter) {
        ClientProxy.unwrap(limiter).clock = Clock.systemUTC();
    }
}
