package io.tessera.scheduler;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Waiting requests, first in first out within a tenant, tenants taking turns: a tenant with a hundred queued
 * requests delays another tenant's next request by one admission, not a hundred. Thread-safe.
 */
final class FairQueue<T> {
    private final Map<String, ArrayDeque<T>> byTenant = new HashMap<>();
    /** Tenants with waiting items, in the order they get their next turn. */
    private final ArrayDeque<String> turns = new ArrayDeque<>();
    private int size;

    synchronized void add(String tenant, T item) {
        ArrayDeque<T> q = byTenant.computeIfAbsent(tenant, t -> new ArrayDeque<>());
        if (q.isEmpty()) {
            turns.add(tenant);
        }
        q.add(item);
        size++;
    }

    /** The next tenant's oldest item, or null when nothing waits. */
    synchronized T poll() {
        return poll(tenant -> true);
    }

    /**
     * The oldest item of the next tenant that {@code eligible} accepts, or null when none waits. Tenants passed
     * over keep their place in the turns.
     */
    synchronized T poll(Predicate<String> eligible) {
        return poll(eligible, item -> true, item -> { });
    }

    /**
     * The first item {@code ready} accepts, tenants taking turns (those {@code eligible} accepts) and each tenant's
     * items oldest first; null when none is. The items looked at and skipped before it are handed to
     * {@code passedOver} (only when one is taken). Tenants passed over keep their place in the turns.
     */
    synchronized T poll(Predicate<String> eligible, Predicate<T> ready, Consumer<T> passedOver) {
        List<T> skipped = new ArrayList<>();
        for (Iterator<String> it = turns.iterator(); it.hasNext(); ) {
            String tenant = it.next();
            if (!eligible.test(tenant)) {
                continue;
            }
            ArrayDeque<T> q = byTenant.get(tenant);
            for (Iterator<T> items = q.iterator(); items.hasNext(); ) {
                T item = items.next();
                if (!ready.test(item)) {
                    skipped.add(item);
                    continue;
                }
                items.remove();
                it.remove();
                if (q.isEmpty()) {
                    byTenant.remove(tenant);
                } else {
                    turns.add(tenant);
                }
                size--;
                skipped.forEach(passedOver);
                return item;
            }
        }
        return null;
    }

    /** Drops the items that match (cancelled while waiting); returns how many. */
    synchronized int removeIf(Predicate<T> drop) {
        int removed = 0;
        for (Iterator<Map.Entry<String, ArrayDeque<T>>> it = byTenant.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, ArrayDeque<T>> e = it.next();
            int before = e.getValue().size();
            e.getValue().removeIf(drop);
            removed += before - e.getValue().size();
            if (e.getValue().isEmpty()) {
                it.remove();
                turns.remove(e.getKey());
            }
        }
        size -= removed;
        return removed;
    }

    synchronized int size() {
        return size;
    }
}
