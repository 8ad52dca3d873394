package io.tessera.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

@ConfigMapping(prefix = "tessera.registry")
public interface RegistryConfig {
    /** Largest upload accepted, in bytes (413 beyond). */
    @WithDefault("536870912")
    long maxUploadBytes();

    /** Most entries (files and directories) an archive may hold. */
    @WithDefault("64")
    int maxArchiveEntries();

    /** Most bytes an archive may unpack to. */
    @WithDefault("2147483648")
    long maxUnpackedBytes();

    /** Most unpacked bytes per archive byte: adapter weights barely compress, bombs compress a thousandfold. */
    @WithDefault("20")
    long maxCompressionRatio();

    /** Largest adapter_config.json accepted, in bytes (413 beyond): it is the one file read whole into memory. */
    @WithDefault("1048576")
    long maxConfigBytes();

    /** Where uploads are unpacked and blobs are materialized for loading. */
    @WithDefault("data/work")
    String workDir();

    /** Host-memory tier: bytes of validated adapter weights kept in RAM outside the engine. */
    @WithDefault("1073741824")
    long hostCacheBytes();

    /** How often the sweeper looks for blobs that no version references. */
    @WithDefault("10m")
    Duration sweepInterval();

    /** A blob younger than this is never swept: its upload may not have committed its rows yet. */
    @WithDefault("1h")
    Duration sweepGrace();

    /** Resolutions are re-read from Postgres after this long even without an event (a missed event heals). */
    @WithDefault("10s")
    Duration resolveTtl();

    /** Seed adapters (one directory per base model) loaded into the demo tenant on first start; absent: none. */
    Optional<String> seedDir();
}
