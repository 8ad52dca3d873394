package io.tessera.usage;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import io.tessera.config.UsageConfig;
import io.tessera.persistence.Db;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;

/**
 * Usage per tenant, model and minute, counted in memory and written to Postgres in batches ({@code usage_minute}), so
 * that no request waits on Postgres; rolled up into hours ({@code usage_hour}) once two hours old. A write that fails
 * (Postgres away) keeps its counts for the next one; at most {@value #MAX_PENDING} (tenant, model, minute) entries wait,
 * further new ones are dropped and counted ({@code tessera_usage_dropped_total}; {@code tessera_usage_pending} shows the
 * entries waiting).
 */
@ApplicationScoped
public class UsageLedger {
    static final int MAX_PENDING = 100_000;
    static final Duration MINUTES_KEPT = Duration.ofHours(2);
    private static final Duration WARN_EVERY = Duration.ofSeconds(30);

    // a tenant deleted since the counts were taken has no rows to add to: its usage goes with it
    private static final String UPSERT = """
            insert into usage_minute as t (tenant_id, model, minute, requests, prompt_tokens, completion_tokens)
            select b.tenant_id, b.model, to_timestamp(b.minute), b.requests, b.prompt_tokens, b.completion_tokens
            from unnest(?::bigint[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[])
                 as b (tenant_id, model, minute, requests, prompt_tokens, completion_tokens)
            where exists (select 1 from tenant x where x.id = b.tenant_id)
            on conflict (tenant_id, model, minute) do update set requests = t.requests + excluded.requests,
                prompt_tokens = t.prompt_tokens + excluded.prompt_tokens,
                completion_tokens = t.completion_tokens + excluded.completion_tokens""";

    // one statement: the minutes it deletes are the ones it adds to their hours, so a second run finds nothing to move
    private static final String ROLL_UP = """
            with moved as (delete from usage_minute where minute < ? returning *)
            insert into usage_hour as t (tenant_id, model, hour, requests, prompt_tokens, completion_tokens)
            select tenant_id, model, date_trunc('hour', minute, 'UTC'), sum(requests), sum(prompt_tokens),
                   sum(completion_tokens)
            from moved group by 1, 2, 3
            on conflict (tenant_id, model, hour) do update set requests = t.requests + excluded.requests,
                prompt_tokens = t.prompt_tokens + excluded.prompt_tokens,
                completion_tokens = t.completion_tokens + excluded.completion_tokens""";

    private static final String EXPIRE = "delete from usage_hour where hour < ?";

    /** Whose use and when: the model is the name a request was served under, resolved by the service. */
    record Key(long tenantId, String model, long minute) {
    }

    record Amount(long requests, long promptTokens, long completionTokens) {
        Amount plus(Amount o) {
            return new Amount(requests + o.requests, promptTokens + o.promptTokens, completionTokens + o.completionTokens);
        }
    }

    @Inject
    DataSource dataSource;
    @Inject
    UsageConfig config;
    @Inject
    MeterRegistry registry;

    private final ConcurrentHashMap<Key, Amount> pending = new ConcurrentHashMap<>();
    private Counter dropped;
    private volatile long lastDropWarning;
    private volatile long lastFlushWarning;

    @PostConstruct
    void init() {
        dropped = Counter.builder("tessera.usage.dropped")
                .description("Usage charges left out of the per-minute usage table: too many were waiting for Postgres")
                .register(registry);
        Gauge.builder("tessera.usage.pending", pending, Map::size)
                .description("Usage entries (tenant, model, minute) waiting to be written to Postgres").register(registry);
    }

    /** Counts usage at {@code at}; returns at once. */
    public void add(long tenantId, String model, Instant at, long requests, long promptTokens, long completionTokens) {
        Key key = new Key(tenantId, model, Math.floorDiv(at.getEpochSecond(), 60) * 60);
        // the size is read without a lock: a few entries past the cap when charges race at it, never many
        if (pending.size() >= MAX_PENDING && !pending.containsKey(key)) {
            dropped.increment();
            lastDropWarning = warn(lastDropWarning, "usage for the per-minute table dropped: " + MAX_PENDING
                    + " entries wait for Postgres");
            return;
        }
        pending.merge(key, new Amount(requests, promptTokens, completionTokens), Amount::plus);
    }

    @Scheduled(identity = "tessera-usage-flush", every = "${tessera.usage.flush-interval:5s}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void flushQuietly() {
        flush();
    }

    // after the default observers, ServingState's among them: its drain lets running streams charge their last tokens
    void onStop(@Observes @Priority(Interceptor.Priority.APPLICATION + 1000) ShutdownEvent event) {
        flush();
    }

    /**
     * Writes what is pending in one upsert; on failure puts it back for the next try (up to twice the cap then: what
     * came in meanwhile and what went back). Returns whether the write succeeded.
     */
    public synchronized boolean flush() {
        Map<Key, Amount> batch = new HashMap<>();
        for (Key k : pending.keySet()) {
            Amount a = pending.remove(k);
            if (a != null) {
                batch.put(k, a);
            }
        }
        if (batch.isEmpty()) {
            return true;
        }
        try {
            Db.tx(() -> sql(dataSource, c -> upsert(c, batch)));
            return true;
        } catch (RuntimeException e) {
            batch.forEach((k, a) -> pending.merge(k, a, Amount::plus));
            lastFlushWarning = warn(lastFlushWarning, "usage not written to Postgres yet, kept for the next try ("
                    + e.getMessage() + ")");
            return false;
        }
    }

    private static int upsert(Connection c, Map<Key, Amount> batch) throws SQLException {
        int n = batch.size();
        Long[] tenants = new Long[n];
        String[] models = new String[n];
        Long[] minutes = new Long[n];
        Long[] requests = new Long[n];
        Long[] prompt = new Long[n];
        Long[] completion = new Long[n];
        int i = 0;
        for (Map.Entry<Key, Amount> e : batch.entrySet()) {
            tenants[i] = e.getKey().tenantId();
            models[i] = e.getKey().model();
            minutes[i] = e.getKey().minute();
            requests[i] = e.getValue().requests();
            prompt[i] = e.getValue().promptTokens();
            completion[i] = e.getValue().completionTokens();
            i++;
        }
        try (PreparedStatement s = c.prepareStatement(UPSERT)) {
            s.setArray(1, c.createArrayOf("bigint", tenants));
            s.setArray(2, c.createArrayOf("text", models));
            s.setArray(3, c.createArrayOf("bigint", minutes));
            s.setArray(4, c.createArrayOf("bigint", requests));
            s.setArray(5, c.createArrayOf("bigint", prompt));
            s.setArray(6, c.createArrayOf("bigint", completion));
            return s.executeUpdate();
        }
    }

    // every few minutes: the two hours of minutes a chart of the last hour reads stay small either way
    @Scheduled(identity = "tessera-usage-roll-up", every = "5m", delayed = "1m",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void rollUpQuietly() {
        try {
            rollUp(Instant.now());
        } catch (RuntimeException e) {
            Log.warnf("usage roll-up skipped: %s", e.getMessage());
        }
    }

    /**
     * In one transaction: minutes older than two hours before {@code now} summed into their hours and deleted, hours
     * older than the retention deleted. Returns the minute rows moved.
     */
    public int rollUp(Instant now) {
        return Db.tx(() -> sql(dataSource, c -> {
            int moved;
            try (PreparedStatement s = c.prepareStatement(ROLL_UP)) {
                s.setObject(1, utc(now.minus(MINUTES_KEPT)));
                moved = s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement(EXPIRE)) {
                s.setObject(1, utc(now.minus(config.retention())));
                s.executeUpdate();
            }
            return moved;
        }));
    }

    static OffsetDateTime utc(Instant t) {
        return t.atOffset(ZoneOffset.UTC);
    }

    interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    /** Runs {@code work} on a connection of the current transaction. */
    static <T> T sql(DataSource dataSource, SqlWork<T> work) {
        try (Connection c = dataSource.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            // Db.tx tells an unreachable Postgres (503) by the cause
            throw new IllegalStateException("usage: " + e.getMessage(), e);
        }
    }

    private static long warn(long last, String message) {
        long now = System.nanoTime();
        if (now - last > WARN_EVERY.toNanos()) {
            Log.warn(message);
            return now;
        }
        return last;
    }
}
