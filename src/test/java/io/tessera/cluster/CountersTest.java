package io.tessera.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** One node without Redis: per-window counters expire, so the map holds only live windows. */
class CountersTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:30Z");

    private static Counters local() {
        Counters c = new Counters();
        c.redis = new ClusterRedis();
        c.redis.hosts = Optional.empty();
        return c;
    }

    private static void at(Counters c, Duration after) {
        c.clock = Clock.fixed(T0.plus(after), ZoneOffset.UTC);
    }

    @Test
    void localCountersExpireAndTheMapShrinks() {
        Counters c = local();
        at(c, Duration.ZERO);
        for (int tenant = 0; tenant < 100; tenant++) {
            c.increment("tessera:rl:" + tenant + ":minute-0:requests", 1, Duration.ofMinutes(2));
        }
        assertThat(c.increment("tessera:rl:0:minute-0:requests", 2, Duration.ofMinutes(2))).isEqualTo(3);
        assertThat(c.localKeys()).isEqualTo(100);

        at(c, Duration.ofSeconds(119));
        assertThat(c.get("tessera:rl:0:minute-0:requests")).isEqualTo(3);

        at(c, Duration.ofMinutes(2));
        assertThat(c.get("tessera:rl:0:minute-0:requests")).as("expired, even before a sweep").isZero();
        c.increment("tessera:rl:0:minute-2:requests", 1, Duration.ofMinutes(2));
        assertThat(c.localKeys()).as("the expired windows are swept").isEqualTo(1);
        // an expired key counts again from zero
        assertThat(c.increment("tessera:rl:1:minute-0:requests", 5, Duration.ofMinutes(2))).isEqualTo(5);
    }
}
