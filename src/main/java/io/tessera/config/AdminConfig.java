package io.tessera.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

@ConfigMapping(prefix = "tessera.security")
public interface AdminConfig {
    /** The operator's bearer key; absent: a random one is made at start and printed once to the log. */
    Optional<String> adminKey();

    /** How long a resolved tenant key is trusted without asking Postgres again (and kept while it is down). */
    @WithDefault("30s")
    Duration keyCacheTtl();
}
