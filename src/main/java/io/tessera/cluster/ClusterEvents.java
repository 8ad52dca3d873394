package io.tessera.cluster;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.logging.Log;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.subscription.Cancellable;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.UUID;

/**
 * Adapter changes and key revocations, told to every replica: fired here at once as a CDI event, and published on
 * the Redis channel {@value #CHANNEL} for the others, which fire the same event when it arrives. Without Redis only
 * this replica hears; with Redis down a change is logged and the others catch up when their caches expire
 * (adapter resolutions, and keys after {@code tessera.security.key-cache-ttl}).
 */
@ApplicationScoped
public class ClusterEvents {
    public static final String CHANNEL = "tessera:adapters";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ORIGIN = UUID.randomUUID().toString();

    /**
     * The wire form: the origin lets a replica skip its own messages (it fired them already). An adapter change
     * carries the tenant's id and the adapter's name, a revocation the key's hash.
     */
    record Message(String origin, Long tenantId, String name, String revokedKeyHash) {
    }

    @Inject
    Event<AdapterChanged> adapterChanges;
    @Inject
    Event<KeyRevoked> revocations;
    @Inject
    ClusterRedis redis;
    @Inject
    Instance<ReactiveRedisDataSource> datasource;

    private Cancellable subscription;

    void start(@Observes StartupEvent e) {
        if (!redis.configured()) {
            Log.info("no Redis configured (quarkus.redis.hosts): adapter changes reach this replica only");
            return;
        }
        subscribe();
    }

    /** Resubscribes forever, with back-off: Redis may restart under us. */
    private void subscribe() {
        subscription = datasource.get().pubsub(String.class).subscribe(CHANNEL)
                .onFailure().invoke(err -> Log.warnf("Redis subscription to %s lost: %s; retrying", CHANNEL, err.getMessage()))
                .onFailure().retry().withBackOff(Duration.ofMillis(200), Duration.ofSeconds(5)).indefinitely()
                .onCompletion().invoke(() -> Log.warn("Redis subscription ended; resubscribing"))
                .subscribe().with(this::received, err -> { }, this::subscribe);
    }

    private void received(String payload) {
        try {
            Message m = JSON.readValue(payload, Message.class);
            if (m.origin().equals(ORIGIN)) {
                return;
            }
            if (m.revokedKeyHash() != null) {
                revocations.fire(new KeyRevoked(m.revokedKeyHash()));
            } else {
                adapterChanges.fire(new AdapterChanged(m.tenantId(), m.name()));
            }
        } catch (JsonProcessingException | RuntimeException ex) {
            Log.warnf("ignoring a bad message on %s: %s", CHANNEL, ex.getMessage());
        }
    }

    /** Tells this replica now and the others through Redis. */
    public void publish(AdapterChanged change) {
        adapterChanges.fire(change);
        send(new Message(ORIGIN, change.tenantId(), change.name(), null), "the change to " + change.name());
    }

    /** Tells this replica now and the others through Redis. */
    public void publish(KeyRevoked revoked) {
        revocations.fire(revoked);
        send(new Message(ORIGIN, null, null, revoked.keyHash()), "a revoked key");
    }

    private void send(Message message, String what) {
        if (!redis.configured()) {
            return;
        }
        try {
            datasource.get().pubsub(String.class).publish(CHANNEL, JSON.writeValueAsString(message)).await().atMost(redis.timeout());
        } catch (JsonProcessingException | RuntimeException ex) {
            Log.warnf("Redis unavailable: other replicas learn of %s when their cache expires (%s)", what, ex.getMessage());
        }
    }

    void stop(@Observes ShutdownEvent e) {
        if (subscription != null) {
            subscription.cancel();
        }
    }
}
