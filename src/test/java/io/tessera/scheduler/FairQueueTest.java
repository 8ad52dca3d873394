package io.tessera.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FairQueueTest {

    @Test
    void tenantsTakeTurnsAndEachTenantIsFirstInFirstOut() {
        FairQueue<String> q = new FairQueue<>();
        for (int i = 1; i <= 3; i++) {
            q.add("a", "a" + i);
        }
        q.add("b", "b1");
        q.add("c", "c1");
        q.add("b", "b2");
        List<String> order = new ArrayList<>();
        for (String s = q.poll(); s != null; s = q.poll()) {
            order.add(s);
        }
        assertThat(order).containsExactly("a1", "b1", "c1", "a2", "b2", "a3");
        assertThat(q.size()).isZero();
    }

    @Test
    void removesWhatMatchesAndKeepsTheTurns() {
        FairQueue<String> q = new FairQueue<>();
        q.add("a", "a1");
        q.add("a", "x");
        q.add("b", "x");
        q.add("c", "c1");
        assertThat(q.removeIf("x"::equals)).isEqualTo(2);
        assertThat(q.size()).isEqualTo(2);
        assertThat(q.poll()).isEqualTo("a1");
        assertThat(q.poll()).isEqualTo("c1");
        assertThat(q.poll()).isNull();
    }

    @Test
    void aTenantPassedOverKeepsItsTurnAndItsItems() {
        FairQueue<String> q = new FairQueue<>();
        q.add("a", "a1");
        q.add("a", "a2");
        q.add("b", "b1");
        q.add("b", "b2");
        assertThat(q.poll(t -> !t.equals("a"))).isEqualTo("b1");
        assertThat(q.poll(t -> !t.equals("a"))).isEqualTo("b2");
        assertThat(q.poll(t -> !t.equals("a"))).isNull();
        assertThat(q.size()).isEqualTo(2);
        assertThat(q.poll()).isEqualTo("a1");
        assertThat(q.poll()).isEqualTo("a2");
    }
}
