package io.tessera.security;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.quarkus.runtime.StartupEvent;
import io.tessera.cluster.KeyRevoked;
import io.tessera.config.AdminConfig;
import io.tessera.persistence.Db;
import io.tessera.util.Io;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;

/**
 * Bearer keys: the admin key from configuration (or a bootstrap one), and tenant keys, of which only the SHA-256 is
 * stored. Resolved keys are cached for a while so that inference goes on when Postgres is briefly away: an entry is
 * trusted for {@code key-cache-ttl}, then asked again, and an older one still serves while Postgres is down; so the
 * cache bounds the entries' number, not their age.
 */
@ApplicationScoped
public class ApiKeys {
    private static final String PREFIX = "tsk_";
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Resolved keys kept; the least used go first beyond it. */
    private static final int MAX_CACHED_KEYS = 10_000;

    private record Cached(Caller caller, long at) {
    }

    @Inject
    AdminConfig config;

    private final Cache<String, Cached> cache = Caffeine.newBuilder().maximumSize(MAX_CACHED_KEYS).build();
    private byte[] adminHash;
    private String bootstrapKey;

    void start(@Observes StartupEvent e) {
        String key = config.adminKey().orElseGet(() -> {
            bootstrapKey = newKey();
            return bootstrapKey;
        });
        adminHash = Io.sha256(key).getBytes(StandardCharsets.US_ASCII);
    }

    /** The admin key made for this run when tessera.security.admin-key is unset (shown in the ready banner). */
    public Optional<String> bootstrapAdminKey() {
        return Optional.ofNullable(bootstrapKey);
    }

    /** A fresh random key: "tsk_" and 32 random bytes, URL-safe base64. */
    public static String newKey() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** A key just made: the plain key is in this value only, never stored. */
    public record NewKey(long id, String prefix, String key) {
    }

    /** Makes a key for the tenant in the caller's transaction. */
    public NewKey issue(Tenant tenant) {
        String key = newKey();
        ApiKey k = new ApiKey();
        k.tenant = tenant;
        k.keyHash = Io.sha256(key);
        k.prefix = key.substring(0, PREFIX.length() + 6);
        k.persist();
        return new NewKey(k.id, k.prefix, key);
    }

    /** A revoked key is not trusted from the cache any more (here at once, on other replicas when they hear). */
    void onRevoked(@Observes KeyRevoked revoked) {
        cache.invalidate(revoked.keyHash());
    }

    /** The tenant was found gone (a replica that missed its deletion): none of its keys is trusted from the cache. */
    public void forgetTenant(long tenantId) {
        cache.asMap().values().removeIf(c -> Long.valueOf(tenantId).equals(c.caller.tenantId()));
    }

    /** The caller whose key this is; empty for an unknown or revoked key. */
    public Optional<Caller> resolve(String key) {
        String hash = Io.sha256(key);
        if (MessageDigest.isEqual(hash.getBytes(StandardCharsets.US_ASCII), adminHash)) {
            return Optional.of(Caller.ADMIN);
        }
        Cached c = cache.getIfPresent(hash);
        long now = System.nanoTime();
        if (c != null && now - c.at < config.keyCacheTtl().toNanos()) {
            return Optional.of(c.caller);
        }
        try {
            Optional<Caller> found = Db.tx(() -> ApiKey.<ApiKey>find(
                    "keyHash = ?1 and revokedAt is null", hash).firstResultOptional()
                    .map(k -> Caller.of(k.tenant)));
            found.ifPresentOrElse(caller -> cache.put(hash, new Cached(caller, now)), () -> cache.invalidate(hash));
            return found;
        } catch (RuntimeException e) {
            if (c != null) {
                // Postgres unreachable: a key known a moment ago stays good (admin calls still fail with 503)
                return Optional.of(c.caller);
            }
            throw e;
        }
    }
}
