package io.tessera.cluster;

import io.quarkus.logging.Log;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.HashMap;
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

    @Inject
    ClusterRedis redis;
    @Inject
    Instance<ReactiveRedisDataSource> datasource;

    private final Map<String, AtomicLong> local = new ConcurrentHashMap<>();
    private final Map<String, Map<String, AtomicLong>> localHashes = new ConcurrentHashMap<>();
    private volatile long lastWarning;

    /** Adds {@code by} to the counter {@code key}, which expires {@code ttl} after its first increment; the new value. */
    public long increment(String key, long by, Duration ttl) {
        if (!redis.configured()) {
            return local.computeIfAbsent(key, k -> new AtomicLong()).addAndGet(by);
        }
        try {
            long v = datasource.get().value(Long.class).incrby(key, by).await().atMost(redis.timeout());
            if (v == by) {
                datasource.get().key().expire(key, ttl).await().atMost(redis.timeout());
            }
            return v;
        } catch (RuntimeException e) {
            throw new RedisDownException(e);
        }
    }

    public long get(String key) {
        if (!redis.configured()) {
            AtomicLong v = local.get(key);
            return v == null ? 0 : v.get();
        }
        try {
            Long v = datasource.get().value(Long.class).get(key).await().atMost(redis.timeout());
            return v == null ? 0 : v;
        } catch (RuntimeException e) {
            throw new RedisDownException(e);
        }
    }

    /** Adds to fields of a hash that never expires (usage totals). */
    public void incrementFields(String key, Map<String, Long> by) {
        if (!redis.configured()) {
            Map<String, AtomicLong> h = localHashes.computeIfAbsent(key, k -> new ConcurrentHashMap<>());
            by.forEach((f, n) -> h.computeIfAbsent(f, x -> new AtomicLong()).addAndGet(n));
            return;
        }
        try {
            var hash = datasource.get().hash(Long.class);
            for (Map.Entry<String, Long> e : by.entrySet()) {
                hash.hincrby(key, e.getKey(), e.getValue()).await().atMost(redis.timeout());
            }
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
