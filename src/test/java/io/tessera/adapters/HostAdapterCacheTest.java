package io.tessera.adapters;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tessera.engine.adapter.Adapter;
import io.tessera.engine.adapter.PromptTuningAdapter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class HostAdapterCacheTest {
    /** 4 bytes per float: an adapter of {@code bytes} bytes. */
    private static Adapter adapter(int bytes) {
        return new PromptTuningAdapter(1, bytes / 4, new float[bytes / 4]);
    }

    @Test
    void concurrentMissesOnOneAdapterLoadItOnce() throws InterruptedException {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        HostAdapterCache cache = new HostAdapterCache(1 << 20, meters);
        AtomicInteger loads = new AtomicInteger();
        List<Thread> askers = new ArrayList<>();
        Adapter[] got = new Adapter[8];
        for (int i = 0; i < got.length; i++) {
            int n = i;
            askers.add(new Thread(() -> got[n] = cache.get("a", () -> {
                loads.incrementAndGet();
                Thread loader = Thread.currentThread();
                // the load lasts until every other asker is waiting on it: all of them missed
                await().atMost(Duration.ofSeconds(10)).until(() -> askers.stream()
                        .filter(t -> t != loader)
                        .allMatch(t -> t.getState() == Thread.State.BLOCKED || t.getState() == Thread.State.WAITING));
                return adapter(64);
            })));
        }
        askers.forEach(Thread::start);
        for (Thread t : askers) {
            t.join(Duration.ofSeconds(20).toMillis());
        }
        assertThat(loads).hasValue(1);
        assertThat(got).doesNotContainNull().containsOnly(got[0]);
        assertThat(meters.counter("tessera.adapters.host.misses").count()).isEqualTo(1);
    }

    @Test
    void staysWithinItsBudgetPinnedAdaptersIncludedAndNeverEvictsAPinnedOne() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        HostAdapterCache cache = new HostAdapterCache(1000, meters);
        cache.put("pinned", adapter(400));
        cache.pin("pinned", true);
        for (int i = 0; i < 10; i++) {
            cache.put("a" + i, adapter(400));
            assertThat(cache.bytes()).isLessThanOrEqualTo(1000);
        }
        assertThat(cache.contains("pinned")).isTrue();
        assertThat(cache.size()).as("the pinned one and one other").isEqualTo(2);
        assertThat(meters.counter("tessera.adapters.host.evictions").count()).isEqualTo(9);

        cache.pin("big", true);   // pinned before it is loaded, as a newly active version is
        cache.put("big", adapter(1200));
        assertThat(cache.contains("big")).isTrue();
        assertThat(cache.size()).as("pinned ones over the budget leave no room for others").isEqualTo(2);

        cache.remove("big");
        cache.pin("pinned", false);   // weighs again, and the budget is whole again
        cache.put("b", adapter(400));
        assertThat(cache.bytes()).isLessThanOrEqualTo(1000);
        assertThat(cache.size()).isEqualTo(2);
    }

    @Test
    void aFailedLoadIsNotCached() {
        HostAdapterCache cache = new HostAdapterCache(1000, new SimpleMeterRegistry());
        assertThatThrownBy(() -> cache.get("a", () -> {
            throw new IllegalStateException("unreadable");
        })).as("the caller sees the loader's own exception").isInstanceOf(IllegalStateException.class);
        assertThat(cache.contains("a")).isFalse();
        assertThat(cache.get("a", () -> adapter(8)).bytes()).isEqualTo(8);
    }
}
