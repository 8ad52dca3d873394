package io.tessera.engine;

import static io.tessera.TestSupport.DEMO_LLAMA;
import static io.tessera.TestSupport.SEED_ADAPTERS;
import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.engine.adapter.AdapterLoader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Prompt prefixes reused across sequences on demo-llama: a hit gives the logits a full prefill gives, and only the
 * same tenant with the same adapter version under full attention hits.
 */
class PrefixCacheTest {
    private static final double TOLERANCE = 1e-4;
    private static final int[] TEXT = new Random(3).ints(90, 4, 4096).toArray();
    private static final int[] OTHER = new Random(4).ints(100, 4, 4096).toArray();

    static Engine engine;
    static ResidentAdapter lora;
    static ResidentAdapter prompt;

    @BeforeAll
    static void open() throws IOException {
        engine = Engine.open(new EngineOptions(DEMO_LLAMA, EngineOptions.Device.CPU, 4, 0).withPrefixCache(64L << 20));
        AdapterLoader loader = new AdapterLoader(engine.model());
        lora = engine.adapters().install(1, loader.load(SEED_ADAPTERS.resolve("demo-llama/research-lora")), "research-lora");
        prompt = engine.adapters().install(2, loader.load(SEED_ADAPTERS.resolve("demo-llama/legal-prompt")), "legal-prompt");
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    /** What one request went through: prompt tokens taken from the cache, then the logits of each sampled position. */
    record Run(int cached, List<float[]> logits) {
    }

    /**
     * Prefills (reusing what the cache has), remembers the prompt, then decodes three fixed tokens. The slot is
     * first filled with other keys and values, so a hit cannot pass on what an earlier run left there.
     */
    private static Run run(Engine e, String scope, ResidentAdapter adapter, AttentionPolicy policy, int tokens) {
        Sequence other = e.open(AttentionPolicy.FULL, null);
        e.step(List.of(StepInput.next(other, OTHER)));
        e.release(other);
        int[] p = Arrays.copyOf(TEXT, tokens);
        Sequence s = e.open(policy, adapter);
        int cached = e.reusePrefix(s, scope, p);
        List<float[]> logits = new ArrayList<>(e.step(List.of(StepInput.next(s, Arrays.copyOfRange(p, cached, p.length)))));
        e.rememberPrefix(s, scope, p);
        for (int t : new int[] {7, 300, 41}) {
            logits.addAll(e.step(List.of(StepInput.next(s, t))));
        }
        e.release(s);
        return new Run(cached, logits);
    }

    private static Run run(String scope, ResidentAdapter adapter, int tokens) {
        return run(engine, scope, adapter, AttentionPolicy.FULL, tokens);
    }

    private static void assertSameLogits(Run a, Run b) {
        for (int i = 0; i < a.logits().size(); i++) {
            float[] x = a.logits().get(i);
            float[] y = b.logits().get(i);
            double max = 0;
            for (int k = 0; k < x.length; k++) {
                max = Math.max(max, Math.abs((double) x[k] - y[k]));
            }
            assertThat(max).as("position %d", i).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    @Test
    void aPromptStartingWithACachedPrefixSkipsItAndGetsWhatAFullPrefillGets() {
        long bpe = engine.kvBytesPerEntry();
        assertThat(run("a", null, 40).cached()).isZero();
        long held = engine.prefixCacheBytes();

        Run hit = run("a", null, 50);
        assertThat(hit.cached()).isEqualTo(32);   // the whole blocks of the first prompt
        // the 48-token entry replaced the 32-token one it extends
        assertThat(engine.prefixCacheBytes() - held).isEqualTo(16 * bpe);

        Run miss = run("b", null, 50);            // another tenant computes it all
        assertThat(miss.cached()).isZero();
        assertSameLogits(hit, miss);
        // a prompt ending where an entry ends keeps one block to compute: its last position's logits are needed
        assertThat(run("a", null, 48).cached()).isEqualTo(32);
    }

    @Test
    void entriesBelongToOneAdapterVersionAndPromptAdaptersKeepTheirVirtualTokens() {
        run("c", null, 64);
        assertThat(run("c", lora, 64).cached()).as("base entry, LoRA request").isZero();
        Run loraHit = run("c", lora, 70);
        assertThat(loraHit.cached()).isEqualTo(64);
        assertSameLogits(loraHit, run("d", lora, 70));

        assertThat(run("c", prompt, 40).cached()).isZero();
        Run promptHit = run("c", prompt, 45);
        assertThat(promptHit.cached()).isEqualTo(32);
        assertSameLogits(promptHit, run("d", prompt, 45));   // the virtual tokens' positions came along
    }

    @Test
    void lmInfiniteSequencesNeitherHitNorFill() {
        run("e", null, 40);
        long held = engine.prefixCacheBytes();
        AttentionPolicy li = new AttentionPolicy.LmInfinite(4, 32, 32);
        assertThat(run(engine, "e", null, li, 40).cached()).isZero();
        run(engine, "f", null, li, 40);
        assertThat(engine.prefixCacheBytes()).isEqualTo(held);
    }

    @Test
    void theLeastRecentlyUsedEntryGoesWhenTheBudgetIsReached() {
        long bpe = engine.kvBytesPerEntry();
        try (Engine small = Engine.open(new EngineOptions(DEMO_LLAMA, EngineOptions.Device.CPU, 2, 0).withPrefixCache(40 * bpe))) {
            run(small, "g", null, AttentionPolicy.FULL, 33);                  // 32 tokens kept
            assertThat(small.prefixCacheBytes()).isEqualTo(32 * bpe);
            assertThat(run(small, "h", null, AttentionPolicy.FULL, 33).cached()).isZero();   // another 32: "g" goes
            assertThat(small.prefixCacheBytes()).isEqualTo(32 * bpe);
            assertThat(run(small, "g", null, AttentionPolicy.FULL, 33).cached()).isZero();
            assertThat(run(small, "g", null, AttentionPolicy.FULL, 33).cached()).isEqualTo(32);
            run(small, "h", null, AttentionPolicy.FULL, 90);                  // 80 tokens: over the whole budget, not kept
            assertThat(small.prefixCacheBytes()).isEqualTo(32 * bpe);
        }
    }
}
