package io.tessera.cluster;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.TreeMap;

/** Requests and tokens per tenant and model (adapter or base model), totalled across replicas. */
@ApplicationScoped
public class UsageCounters {
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Usage(long requests, long promptTokens, long completionTokens) {
    }

    @Inject
    Counters counters;

    public void record(long tenantId, String model, long requests, long promptTokens, long completionTokens) {
        try {
            counters.incrementFields(key(tenantId), Map.of(model + ":requests", requests,
                    model + ":prompt_tokens", promptTokens, model + ":completion_tokens", completionTokens));
        } catch (Counters.RedisDownException e) {
            counters.warnDown("usage is not counted", e);
        }
    }

    /** By model name. */
    public Map<String, Usage> of(long tenantId) {
        Map<String, Long> f = counters.fields(key(tenantId));
        Map<String, Usage> out = new TreeMap<>();
        f.keySet().stream().filter(k -> k.endsWith(":requests")).forEach(k -> {
            String model = k.substring(0, k.length() - ":requests".length());
            out.put(model, new Usage(f.get(k), f.getOrDefault(model + ":prompt_tokens", 0L),
                    f.getOrDefault(model + ":completion_tokens", 0L)));
        });
        return out;
    }

    private static String key(long tenantId) {
        return "tessera:usage:" + tenantId;
    }
}
