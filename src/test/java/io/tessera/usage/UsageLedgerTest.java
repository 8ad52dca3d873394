package io.tessera.usage;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The usage waiting for Postgres is bounded: past the cap new entries are dropped and counted, never kept. */
@QuarkusTest
class UsageLedgerTest {
    @Inject
    UsageLedger ledger;
    @Inject
    MeterRegistry registry;

    @Test
    void waitingUsageIsCappedAndWhatIsDroppedIsCounted() {
        Counter dropped = registry.get("tessera.usage.dropped").counter();
        Gauge pending = registry.get("tessera.usage.pending").gauge();
        double before = dropped.count();
        Instant now = Instant.now();
        // no tenant has id -1: the write leaves these out. A scheduled write may empty the entries meanwhile, so go on
        // until one is dropped
        int i = 0;
        while (dropped.count() == before) {
            assertThat(i).as("entries added before one was dropped").isLessThan(10 * UsageLedger.MAX_PENDING);
            ledger.add(-1, "capped-" + i++, now, 1, 1, 1);
        }
        assertThat(pending.value()).isLessThanOrEqualTo(UsageLedger.MAX_PENDING);
        // an entry already waiting still adds up
        ledger.add(-1, "capped-" + (i - 2), now, 1, 1, 1);
        assertThat(dropped.count()).isEqualTo(before + 1);
        assertThat(ledger.flush()).isTrue();
        assertThat(pending.value()).isZero();
    }
}
