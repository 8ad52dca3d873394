package io.tessera.scheduler;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How many tokens each running sequence feeds in the next engine step. A pure function of what is running.
 *
 * <p>Every decoding sequence gets its one token first, so streams keep flowing whatever prompts arrive. The rest
 * of the step's token budget goes to prompts in chunks of at most {@code maxChunk}, tenants taking turns (the
 * first tenant served rotates with {@code turn}), so a long prompt neither stalls running streams nor starves
 * another tenant's prompt. With nothing decoding there is no stream to stall, and a prompt takes the whole budget.
 */
public final class StepPlanner {

    /**
     * One running sequence.
     *
     * @param promptLeft    prompt tokens not fed yet; 0 when the sequence is decoding
     * @param virtualTokens tokens the engine adds to this sequence's next step (a prompt-tuning adapter's, on the
     *                      first step only); they count against the budget
     */
    public record Entry(String tenant, int promptLeft, int virtualTokens) {
        boolean decoding() {
            return promptLeft == 0;
        }
    }

    /** Tokens to feed per entry, in the entries' order; 0 = sits this step out. */
    public static int[] plan(List<Entry> entries, int tokenBudget, int maxChunk, long turn) {
        int[] tokens = new int[entries.size()];
        int budget = tokenBudget;
        Map<String, ArrayDeque<Integer>> prompts = new LinkedHashMap<>();
        for (int i = 0; i < tokens.length; i++) {
            Entry e = entries.get(i);
            if (e.decoding()) {
                tokens[i] = 1;
                budget--;
            } else {
                prompts.computeIfAbsent(e.tenant(), t -> new ArrayDeque<>()).add(i);
            }
        }
        List<ArrayDeque<Integer>> order = new ArrayList<>(prompts.values());
        if (!order.isEmpty()) {
            Collections.rotate(order, (int) -(turn % order.size()));
        }
        ArrayDeque<ArrayDeque<Integer>> turns = new ArrayDeque<>(order);
        boolean planned = budget < tokenBudget;
        int limit = planned ? maxChunk : tokenBudget;
        while (budget > 0 && !turns.isEmpty()) {
            ArrayDeque<Integer> queue = turns.poll();
            int i = queue.poll();
            Entry e = entries.get(i);
            int chunk = Math.min(Math.min(e.promptLeft(), limit), budget - e.virtualTokens());
            if (chunk < 1 && !planned) {
                // virtual tokens alone exceed the budget: let the step run over rather than never start the sequence
                chunk = Math.min(e.promptLeft(), limit);
            }
            if (chunk >= 1) {
                tokens[i] = chunk;
                budget -= chunk + e.virtualTokens();
                planned = true;
            }
            if (!queue.isEmpty()) {
                turns.add(queue);
            }
        }
        return tokens;
    }

    private StepPlanner() {
    }
}
