package io.tessera.adapters;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;
import java.util.List;

/** What the admin API shows of adapters. */
public final class AdapterViews {
    private AdapterViews() {
    }

    /**
     * An adapter with the facts of its active version (null while none is active). A kind's own parameters are
     * null for the other kinds: rank (LORA, DORA, PROMPT_TUNING_LORA), virtual tokens (PROMPT_TUNING,
     * PROMPT_TUNING_LORA), max length (PROMPT_TUNING_LORA).
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record AdapterView(String tenant, String name, String kind, String baseModel, Integer activeVersion,
                              boolean pinned, Integer rank, Integer virtualTokens, Integer maxLength, String targetModules,
                              Long sizeBytes, Instant updatedAt) {
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record VersionView(int version, String sha256, long sizeBytes, Integer rank, Integer virtualTokens,
                              Integer maxLength, String targetModules, Instant createdAt, boolean active) {
    }

    /**
     * An upload's answer: the adapter as {@link AdapterView} shows it (its active version's facts), and the version just
     * stored, which with {@code activate=false} is not the active one.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Uploaded(@JsonUnwrapped AdapterView adapter, VersionView uploaded) {
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record AdapterDetail(AdapterView adapter, List<VersionView> versions) {
    }

    /**
     * A listing's row: the adapter as {@link AdapterView} shows it, its versions, and the highest tier holding its active
     * version ({@code engine}, {@code host} or {@code store}; null while none is active).
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record AdapterListing(@JsonUnwrapped AdapterView adapter, List<VersionView> versions, String tier) {
    }

    static AdapterView view(RegisteredAdapter a, AdapterVersion active) {
        return new AdapterView(a.tenant.name, a.name, a.kind.name(), a.baseModel, a.activeVersion, a.pinned,
                active == null ? null : active.rank, active == null ? null : active.virtualTokens,
                active == null ? null : active.maxLength,
                active == null ? null : active.targetModules,
                active == null ? null : active.sizeBytes, a.updatedAt);
    }

    static VersionView view(AdapterVersion v, Integer activeVersion) {
        return new VersionView(v.version, v.blobSha256, v.sizeBytes, v.rank, v.virtualTokens, v.maxLength, v.targetModules, v.createdAt,
                activeVersion != null && activeVersion == v.version);
    }
}
