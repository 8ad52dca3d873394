package io.tessera.usage;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.tessera.persistence.Db;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.sql.DataSource;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Usage over time for charts, per model: the last hour by minute or the last day by hour, sparse. */
@ApplicationScoped
public class UsageSeries {
    /**
     * A chart's span: {@code buckets} of {@code bucketSeconds} ending with the current one. {@code rows} reads the
     * buckets' rows: the last day's hours are the hourly rows plus the minutes not yet rolled up, summed into theirs.
     */
    public enum Range {
        HOUR(60, 60, 1, "select model, minute as t, requests, prompt_tokens, completion_tokens from usage_minute"
                + " where minute >= ? and minute < ? %s"),
        DAY(3600, 24, 2, "select model, hour as t, requests, prompt_tokens, completion_tokens from usage_hour"
                + " where hour >= ? and hour < ? %1$s union all"
                + " select model, date_trunc('hour', minute, 'UTC'), requests, prompt_tokens, completion_tokens from usage_minute"
                + " where minute >= ? and minute < ? %1$s");

        final int bucketSeconds;
        final int buckets;
        /** The selects in {@code rows}, each taking start, end and (for one tenant) the tenant id. */
        private final int selects;
        private final String rows;

        Range(int bucketSeconds, int buckets, int selects, String rows) {
            this.bucketSeconds = bucketSeconds;
            this.buckets = buckets;
            this.selects = selects;
            this.rows = rows;
        }

        /** {@code hour} or {@code day}. */
        public static Optional<Range> of(String name) {
            for (Range r : values()) {
                if (r.name().toLowerCase(Locale.ROOT).equals(name)) {
                    return Optional.of(r);
                }
            }
            return Optional.empty();
        }
    }

    /** Times are epoch seconds; {@code start} inclusive, {@code end} exclusive; series by model, points by time. */
    @Schema(name = "UsageSeries", description = "Usage over [start, end) in buckets of bucket_seconds, epoch seconds")
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Series(String range, int bucketSeconds, long start, long end, List<ModelSeries> series) {
    }

    @Schema(name = "UsageModelSeries", description = "One model's non-empty buckets, by time")
    public record ModelSeries(String model, List<Point> points) {
    }

    /** One non-empty bucket, {@code t} its start. */
    @Schema(name = "UsagePoint", description = "One bucket: t is its start (epoch seconds)")
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Point(long t, long requests, long promptTokens, long completionTokens) {
    }

    @Inject
    DataSource dataSource;

    /** The usage of tenant {@code tenantId}, or of all tenants summed when it is null, in {@code range} up to {@code now}. */
    public Series of(Range range, Long tenantId, Instant now) {
        long end = Math.floorDiv(now.getEpochSecond(), range.bucketSeconds) * range.bucketSeconds + range.bucketSeconds;
        long start = end - (long) range.buckets * range.bucketSeconds;
        String sql = "select model, extract(epoch from t)::bigint, sum(requests), sum(prompt_tokens), sum(completion_tokens)"
                + " from (" + range.rows.formatted(tenantId == null ? "" : "and tenant_id = ?") + ") u"
                + " group by 1, 2 order by model collate \"C\", 2";   // by code point, as Java sorts
        List<ModelSeries> series = Db.tx(() -> UsageLedger.sql(dataSource, c -> {
            try (PreparedStatement s = c.prepareStatement(sql)) {
                int p = 1;
                for (int i = 0; i < range.selects; i++) {
                    s.setObject(p++, UsageLedger.utc(Instant.ofEpochSecond(start)));
                    s.setObject(p++, UsageLedger.utc(Instant.ofEpochSecond(end)));
                    if (tenantId != null) {
                        s.setLong(p++, tenantId);
                    }
                }
                List<ModelSeries> out = new ArrayList<>();
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        String model = r.getString(1);
                        if (out.isEmpty() || !out.get(out.size() - 1).model().equals(model)) {
                            out.add(new ModelSeries(model, new ArrayList<>()));
                        }
                        out.get(out.size() - 1).points().add(new Point(r.getLong(2), r.getLong(3), r.getLong(4), r.getLong(5)));
                    }
                }
                return out;
            }
        }));
        return new Series(range.name().toLowerCase(Locale.ROOT), range.bucketSeconds, start, end, series);
    }
}
