package io.tessera.cluster;

import io.quarkus.logging.Log;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters shared by all replicas: in Redis when it is configured, in this process otherwise (one node). When
 * Redis is configured but does not answer, {@link #increment} and {@link #get} throw {@link RedisDownException}
 * and the caller applies its policy.
 */
@ApplicationScoped
public class Counters {
    /** Redis is configured but did not answer in time. */
    public static class RedisDownException extends RuntimeException {
        RedisDownException(Throwable cause) {
            super(cause.getMessage(), cause);
        }
    }

    /** The increment and its expiry in one step: no failure between two calls can leave a key that never expires. */
    private static final String INCREMENT = """
            local v = redis.call('INCRBY', KEYS[1], ARGV[1])
            if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
            return v""";
    /** All fields of one update or none. */
    private static final String INCREMENT_FIELDS = """
            for i = 1, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
            return 0""";
    /** Local counters are swept of expired keys at most this often. */
    private static final long SWEEP_MILLIS = 1000;

    @Inject
    ClusterRedis redis;
    @Inject
    Instance<ReactiveRedisDataSource> datasource;
    /** What local counters expire by; tests set it. */
    Clock clock = Clock.systemUTC();

    /** A local counter and when it expires (epoch millis). */
    private record LocalCount(AtomicLong value, long expiresAt) {
        boolean expired(long now) {
            return now >= expiresAt;
        }
    }

    private final Map<String, LocalCount> local = new ConcurrentHashMap<>();
    private final Map<String, Map<String, AtomicLong>> localHashes = new ConcurrentHashMap<>();
    private volatile long nextSweep;
    private volatile long lastWarning;

    /** Adds {@code by} to the counter {@code key}, which expires {@code ttl} after its first increment; the new value. */
    public long increment(String key, long by, Duration ttl) {
        if (!redis.configured()) {
            long now = clock.millis();
            sweep(now);
            return local.compute(key, (k, c) -> c == null || c.expired(now) ? new LocalCount(new AtomicLong(), now + ttl.toMillis()) : c)
                    .value().addAndGet(by);
        }
        try {
            return datasource.get().execute("EVAL", INCREMENT, "1", key, Long.toString(by), Long.toString(ttl.toMillis()))
                    .await().atMost(redis.timeout()).toLong();
        } catch (RuntimeException e) {
            throw new RedisDownException(e);
        }
    }

    /** Drops expired local counters, so that per-window keys do not pile up. */
    private void sweep(long now) {
        if (now >= nextSweep) {
            nextSweep = now + SWEEP_MILLIS;
            local.values().removeIf(c -> c.expired(now));
        }
    }

    /** Local counters held (expired ones go at the next sweep). */
    int localKeys() {
        return local.size();
    }

    public long get(String key) {
        if (!redis.configured()) {
            LocalCount c = local.get(key);
            return c == null || c.expired(clock.millis()) ? 0 : c.value().get();
        }
        try {
            Long v = datasource.get().value(Long.class).get(key).await().atMost(redis.timeout());
            return v == null ? 0 : v;
        } catch (RuntimeException e) {
            throw new RedisDownException(e);
        }
    }

    /** Adds to fields of a hash that never expires (usage totals), all in one step. */
    public void incrementFields(String key, Map<String, Long> by) {
        if (!redis.configured()) {
            Map<String, AtomicLong> h = localHashes.computeIfAbsent(key, k -> new ConcurrentHashMap<>());
            by.forEach((f, n) -> h.computeIfAbsent(f, x -> new AtomicLong()).addAndGet(n));
            return;
        }
        List<String> args = new ArrayList<>(List.of(INCREMENT_FIELDS, "1", key));
        by.forEach((f, n) -> {
            args.add(f);
            args.add(Long.toString(n));
        });
        try {
            datasource.get().execute("EVAL", args.toArray(String[]::new)).await().atMost(redis.timeout());
        } catch (RuntimeException e) {
            throw new RedisDownException(e);
        }
    }

    public Map<String, Long> fields(String key) {
        if (!redis.configured()) {
            Map<String, Long> out = new HashMap<>();
            localHashes.getOrDefault(key, Map.of()).forEach((f, v) -> out.put(f, v.get()));
            return out;
        }
        try {
            return datasource.get().hash(Long.class).hgetall(key).await().atMost(redis.timeout());
        } catch (RuntimeException e) {
            throw new RedisDownException(e);
        }
    }

    /** Logs that Redis is down at most every 30 s, so an outage does not flood the log. */
    public void warnDown(String what, RuntimeException e) {
        long now = System.nanoTime();
        if (now - lastWarning > Duration.ofSeconds(30).toNanos()) {
            lastWarning = now;
            Log.warnf("Redis unavailable, %s (%s)", what, e.getMessage());
        }
    }
}
