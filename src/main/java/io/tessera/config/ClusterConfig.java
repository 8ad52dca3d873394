package io.tessera.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

@ConfigMapping(prefix = "tessera.cluster")
public interface ClusterConfig {
    /** Longest wait for one Redis command; past it Redis counts as down for that call. */
    @WithDefault("500ms")
    Duration redisTimeout();

    /** Requests per minute per tenant when the tenant sets none; 0: unlimited. */
    @WithDefault("0")
    int requestsPerMinute();

    /** Tokens (prompt + completion) per minute per tenant when the tenant sets none; 0: unlimited. */
    @WithDefault("0")
    int tokensPerMinute();
}
