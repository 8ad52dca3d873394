package io.tessera.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Usage for charts, in Postgres: per minute, then per hour (the rate limits keep their totals in Redis). */
@ConfigMapping(prefix = "tessera.usage")
public interface UsageConfig {
    /**
     * How often a replica writes the usage it counted (per tenant, model and minute) to Postgres in one statement;
     * what a failed write held is tried again with the next.
     */
    @WithDefault("5s")
    Duration flushInterval();

    /** How long hourly usage is kept; per-minute rows become hourly ones once two hours old. */
    @WithDefault("30d")
    Duration retention();
}
