package io.tessera.cluster;

import io.tessera.security.Caller;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Admission (rate limits) before a request, accounting (tokens, usage) after it; the admin key is not counted. */
@ApplicationScoped
public class Accounting {
    @Inject
    RateLimiter limiter;
    @Inject
    UsageCounters usage;

    // requests finish on the engine thread, which must never wait on Redis
    private final ExecutorService background = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tessera-accounting");
        t.setDaemon(true);
        return t;
    });

    /** Throws {@link RateLimitedException} when the caller's tenant is over a limit. */
    public void admit(Caller caller) {
        if (!caller.isAdmin()) {
            limiter.admit(caller.tenantId(), limiter.limits(caller.requestsPerMinute(), caller.tokensPerMinute()));
        }
    }

    public void finished(Caller caller, String model, int promptTokens, int completionTokens) {
        if (caller.isAdmin()) {
            return;
        }
        background.execute(() -> {
            limiter.spent(caller.tenantId(), promptTokens + completionTokens);
            usage.record(caller.tenantId(), model, promptTokens, completionTokens);
        });
    }
}
