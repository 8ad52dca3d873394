package io.tessera.security;

import io.tessera.cluster.RateLimiter;
import io.tessera.cluster.UsageCounters;
import io.tessera.usage.UsageLedger;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.microprofile.context.ManagedExecutor;

/**
 * Admission (rate limits) before a request, accounting (tokens, usage) as it runs; the admin key is not counted.
 * Tokens are charged as the engine consumes them, so a request that ends early pays for what it used: into Redis'
 * totals (the rate limits, {@code /v1/admin/usage}) and the per-minute ledger in Postgres (charts).
 */
@ApplicationScoped
public class Accounting {
    @Inject
    RateLimiter limiter;
    @Inject
    UsageCounters usage;
    @Inject
    UsageLedger ledger;
    // charges come from the scheduler's delivery thread, which must never wait on Redis
    @Inject
    ManagedExecutor background;

    /** Whose use: the tenant's id and the model name the client asked for. */
    private record Account(long tenantId, String model) {
    }

    private record Amount(long requests, long promptTokens, long completionTokens) {
        Amount plus(Amount o) {
            return new Amount(requests + o.requests, promptTokens + o.promptTokens, completionTokens + o.completionTokens);
        }
    }

    /** Charges not written yet, summed per account: a busy engine step costs one write per account, not per request. */
    private final ConcurrentHashMap<Account, Amount> pending = new ConcurrentHashMap<>();
    private final AtomicBoolean flushQueued = new AtomicBoolean();

    /** Throws {@link RateLimitedException} when the caller's tenant is over a limit. */
    public void admit(Caller caller) {
        if (!caller.isAdmin()) {
            limiter.admit(caller.tenantId(), limiter.limits(caller.requestsPerMinute(), caller.tokensPerMinute()));
        }
    }

    /**
     * Charges what a request consumed since its last charge; returns at once, the counters are written in the
     * background.
     *
     * @param requests 1 with a request's first charge, then 0
     */
    public void charge(Caller caller, String model, int requests, int promptTokens, int completionTokens) {
        if (caller.isAdmin()) {
            return;
        }
        pending.merge(new Account(caller.tenantId(), model), new Amount(requests, promptTokens, completionTokens), Amount::plus);
        if (flushQueued.compareAndSet(false, true)) {
            background.execute(this::flush);
        }
    }

    private void flush() {
        // cleared first: a charge that comes while this runs queues the next flush, which may run alongside this
        // one on the pool; each takes its accounts out with remove(), so nothing is written twice
        flushQueued.set(false);
        for (Account a : pending.keySet()) {
            Amount m = pending.remove(a);
            if (m != null) {
                limiter.spent(a.tenantId(), m.promptTokens() + m.completionTokens());
                usage.record(a.tenantId(), a.model(), m.requests(), m.promptTokens(), m.completionTokens());
                ledger.add(a.tenantId(), a.model(), Instant.now(), m.requests(), m.promptTokens(), m.completionTokens());
            }
        }
    }
}
