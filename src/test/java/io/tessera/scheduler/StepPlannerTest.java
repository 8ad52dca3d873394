package io.tessera.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.scheduler.StepPlanner.Entry;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepPlannerTest {

    private static Entry decoding(String tenant) {
        return new Entry(tenant, 0, 0);
    }

    private static Entry prompt(String tenant, int left) {
        return new Entry(tenant, left, 0);
    }

    @Test
    void everyDecodingSequenceGetsItsTokenWhateverPromptsWait() {
        int[] plan = StepPlanner.plan(List.of(decoding("a"), prompt("a", 5000), decoding("b")), 64, 32, 0);
        assertThat(plan).containsExactly(1, 32, 1);
    }

    @Test
    void aLongPromptIsFedInChunksNextToRunningStreams() {
        int[] plan = StepPlanner.plan(List.of(prompt("a", 1000), decoding("a")), 512, 32, 0);
        assertThat(plan).containsExactly(32, 1);
    }

    @Test
    void withNothingDecodingAPromptTakesTheWholeBudget() {
        assertThat(StepPlanner.plan(List.of(prompt("a", 1000)), 512, 32, 0)).containsExactly(512);
        assertThat(StepPlanner.plan(List.of(prompt("a", 300), prompt("a", 300)), 512, 32, 0)).containsExactly(300, 212);
    }

    @Test
    void theBudgetBoundsTheStep() {
        int[] plan = StepPlanner.plan(List.of(decoding("a"), decoding("a"), prompt("a", 40), prompt("a", 40)), 36, 32, 0);
        assertThat(plan).containsExactly(1, 1, 32, 2);
        assertThat(plan[0] + plan[1] + plan[2] + plan[3]).isEqualTo(36);
    }

    @Test
    void tenantsTakeTurnsAndTheFirstTurnRotates() {
        List<Entry> entries = List.of(decoding("a"), prompt("a", 100), prompt("a", 100), prompt("a", 100), prompt("b", 100));
        // budget for two chunks after the decode: one per tenant, not two of a's
        assertThat(StepPlanner.plan(entries, 1 + 2 * 32, 32, 0)).containsExactly(1, 32, 0, 0, 32);
        // one chunk only: the tenant served first alternates from step to step
        assertThat(StepPlanner.plan(entries, 1 + 32, 32, 0)).containsExactly(1, 32, 0, 0, 0);
        assertThat(StepPlanner.plan(entries, 1 + 32, 32, 1)).containsExactly(1, 0, 0, 0, 32);
    }

    @Test
    void virtualTokensCountAgainstTheBudget() {
        int[] plan = StepPlanner.plan(List.of(decoding("a"), new Entry("a", 40, 20)), 33, 32, 0);
        assertThat(plan).containsExactly(1, 12);
    }

    @Test
    void virtualTokensBeyondTheBudgetStillStartWhenAloneInTheStep() {
        assertThat(StepPlanner.plan(List.of(new Entry("a", 10, 600)), 512, 32, 0)).containsExactly(10);
    }
}
