package io.tessera.cli;

import static io.tessera.TestSupport.DEMO_LLAMA;
import static io.tessera.TestSupport.SEED_ADAPTERS;
import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.Engine;
import io.tessera.engine.EngineOptions;
import io.tessera.engine.ModelConfig;
import io.tessera.engine.Sequence;
import io.tessera.engine.StepInput;
import io.tessera.engine.adapter.AdapterLoader;
import io.tessera.engine.ResidentAdapter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No native memory grows with the number of steps: a long mixed run (base rows, LoRAs of ranks 8, 16 and 32, DoRA,
 * prompt tuning, LM-Infinite, prefix-cache hits, slots reused, a DoRA adapter loaded, uninstalled and installed again;
 * expert groups on demo-moge) leaves as many live arrays under the engine's manager as the same resident state had
 * before it.
 * Between two measurements the engine is brought to equal states: no sequence running, the same adapters
 * resident, each adapter's cached slot weights made by the same step, and the prefix cache refilled with the same
 * entries (its budget fits exactly {@value #FLUSH_PROMPTS} of them).
 */
class EngineMemoryTest {
    private static final int FLUSH_PROMPTS = 4;
    private static final int MAX_RUNNING = 5;

    @TempDir
    Path dir;

    /** A sequence in flight: what it still has to prefill, then how many tokens it decodes. */
    private static final class Live {
        final Sequence seq;
        final String scope;
        final int[] prompt;
        int fed;
        int decodeLeft;

        Live(Sequence seq, String scope, int[] prompt, int fed, int decode) {
            this.seq = seq;
            this.scope = scope;
            this.prompt = prompt;
            this.fed = fed;
            this.decodeLeft = decode;
        }
    }

    /** One kind of request: its adapter (null: base) and attention policy. */
    private record Kind(ResidentAdapter adapter, AttentionPolicy policy) {
    }

    @Test
    void liveArraysStayFlatOverAMixedRunOnDemoLlama() throws IOException {
        ModelConfig config = ModelConfig.load(DEMO_LLAMA);
        long prefixBudget = FLUSH_PROMPTS * 32 * config.kvBytesPerEntry(4);
        try (Engine engine = Engine.open(new EngineOptions(DEMO_LLAMA, EngineOptions.Device.CPU, MAX_RUNNING + 1, 0)
                .withPrefixCache(prefixBudget))) {
            AdapterLoader loader = new AdapterLoader(engine.model());
            Random rnd = new Random(17);
            ResidentAdapter r8 = engine.adapters().install(1, loader.load(Bench.writeRandomLora(dir.resolve("r8"), config, 8, rnd)), "r8");
            ResidentAdapter r16 = engine.adapters().install(2, loader.load(SEED_ADAPTERS.resolve("demo-llama/research-lora")), "r16");
            ResidentAdapter r32 = engine.adapters().install(3, loader.load(Bench.writeRandomLora(dir.resolve("r32"), config, 32, rnd)), "r32");
            ResidentAdapter dora = engine.adapters().install(4, loader.load(SEED_ADAPTERS.resolve("demo-llama/research-dora")), "dora");
            ResidentAdapter prompt = engine.adapters().install(5, loader.load(SEED_ADAPTERS.resolve("demo-llama/legal-prompt")), "prompt");
            // churned: loaded again each time (DoRA's load reads base weights) and installed into the same slot and row
            Path churnDir = SEED_ADAPTERS.resolve("demo-llama/research-dora");
            ResidentAdapter[] churn = {engine.adapters().install(6, loader.load(churnDir), "churn")};
            long[] nextId = {7};
            AttentionPolicy lmInf = new AttentionPolicy.LmInfinite(4, 16, 16);
            List<Kind> kinds = new ArrayList<>();
            for (ResidentAdapter a : Arrays.asList(null, r8, r16, r32, dora, prompt)) {
                kinds.add(new Kind(a, AttentionPolicy.FULL));
            }
            kinds.add(new Kind(null, lmInf));
            kinds.add(new Kind(r32, lmInf));
            kinds.add(new Kind(dora, lmInf));
            List<ResidentAdapter> settleWith = Arrays.asList(null, r8, r16, r32, dora, prompt);

            Mixed run = new Mixed(engine, kinds, new Random(23), () -> {
                // an idle churn adapter makes way for a new one (new id, same bank slot)
                if (churn[0].holders() == 0) {
                    engine.adapters().uninstall(churn[0]);
                    churn[0] = engine.adapters().install(nextId[0]++, loader.load(churnDir), "churn");
                }
            }, () -> new Kind(churn[0], AttentionPolicy.FULL));
            run.steps(120);   // warm-up: every cached structure exists
            int before = run.settle(settleWith, churn[0]);
            int steps = run.steps(520);
            int after = run.settle(settleWith, churn[0]);

            assertThat(steps).isGreaterThanOrEqualTo(500);
            assertThat(run.prefixHits).as("prefix-cache hits").isGreaterThan(10);
            assertThat(run.opened).as("sequences opened").isGreaterThan(40);
            assertThat(after).as("live native arrays after %d mixed steps (before: %d)", steps, before).isEqualTo(before);
        }
    }

    @Test
    void liveArraysStayFlatWithExpertGroupsOnDemoMoge() throws IOException {
        Path model = Path.of("models/demo-moge");
        try (Engine engine = Engine.open(new EngineOptions(model, EngineOptions.Device.CPU, MAX_RUNNING + 1, 0)
                .withPrefixCache(FLUSH_PROMPTS * 32 * ModelConfig.load(model).kvBytesPerEntry(4)))) {
            AdapterLoader loader = new AdapterLoader(engine.model());
            Path groupsDir = SEED_ADAPTERS.resolve("demo-moge/legal-groups");
            ResidentAdapter[] groups = {engine.adapters().install(1, loader.load(groupsDir), "groups")};
            long[] nextId = {2};
            AttentionPolicy lmInf = new AttentionPolicy.LmInfinite(4, 16, 16);
            List<Kind> kinds = List.of(new Kind(null, AttentionPolicy.FULL), new Kind(null, lmInf));
            Mixed run = new Mixed(engine, kinds, new Random(29), () -> {
                if (groups[0].holders() == 0) {   // the replacement experts are rebuilt without it, then with it
                    engine.adapters().uninstall(groups[0]);
                    groups[0] = engine.adapters().install(nextId[0]++, loader.load(groupsDir), "groups");
                }
            }, () -> new Kind(groups[0], AttentionPolicy.FULL));
            run.steps(40);
            int before = run.settle(List.of(), groups[0]);
            int steps = run.steps(120);
            int after = run.settle(List.of(), groups[0]);
            assertThat(after).as("live native arrays after %d steps with expert groups (before: %d)", steps, before).isEqualTo(before);
        }
    }

    /** A seeded stream of requests of the given kinds (plus the churned adapter's), stepped together. */
    private static final class Mixed {
        private final Engine engine;
        private final List<Kind> kinds;
        private final Random rnd;
        private final Runnable churn;
        private final java.util.function.Supplier<Kind> churnKind;
        private final List<Live> running = new ArrayList<>();
        private final int vocab;
        private final int[][] shared;   // per scope, a 32-token start many of its prompts share
        int prefixHits;
        int opened;

        Mixed(Engine engine, List<Kind> kinds, Random rnd, Runnable churn, java.util.function.Supplier<Kind> churnKind) {
            this.engine = engine;
            this.kinds = kinds;
            this.rnd = rnd;
            this.churn = churn;
            this.churnKind = churnKind;
            this.vocab = engine.config().vocabSize();
            this.shared = new int[][] {rnd.ints(32, 4, vocab).toArray(), rnd.ints(32, 4, vocab).toArray()};
        }

        /** Runs n steps, opening and finishing sequences as it goes; returns n. */
        int steps(int n) {
            for (int step = 0; step < n; step++) {
                if (step % 60 == 59) {
                    churn.run();
                }
                while (running.size() < MAX_RUNNING && (running.isEmpty() || rnd.nextInt(3) == 0)) {
                    start(rnd.nextInt(kinds.size() + 1) == 0 ? churnKind.get() : kinds.get(rnd.nextInt(kinds.size())));
                }
                List<StepInput> inputs = new ArrayList<>();
                for (Live l : running) {
                    if (l.fed < l.prompt.length) {
                        int chunk = Math.min(l.prompt.length - l.fed, 1 + rnd.nextInt(12));
                        inputs.add(StepInput.next(l.seq, Arrays.copyOfRange(l.prompt, l.fed, l.fed + chunk)));
                        l.fed += chunk;
                    } else {
                        inputs.add(StepInput.next(l.seq, 4 + rnd.nextInt(vocab - 4)));
                        l.decodeLeft--;
                    }
                }
                engine.step(inputs);
                for (Live l : new ArrayList<>(running)) {
                    if (l.fed == l.prompt.length && l.seq.policy() instanceof AttentionPolicy.Full
                            && l.seq.length() == l.seq.virtualTokens() + l.prompt.length) {
                        engine.rememberPrefix(l.seq, l.scope, l.prompt);
                    }
                    if (l.decodeLeft == 0) {
                        engine.release(l.seq);
                        running.remove(l);
                    }
                }
            }
            return n;
        }

        private void start(Kind k) {
            int scope = rnd.nextInt(shared.length);
            int[] prompt;
            if (rnd.nextBoolean()) {   // the scope's shared start and a short tail: a hit once cached
                prompt = Arrays.copyOf(shared[scope], 32 + 1 + rnd.nextInt(12));
                for (int i = 32; i < prompt.length; i++) {
                    prompt[i] = 4 + rnd.nextInt(vocab - 4);
                }
            } else {
                prompt = rnd.ints(2 + rnd.nextInt(20), 4, vocab).toArray();
            }
            Sequence s = engine.open(k.policy(), k.adapter());
            String scopeName = "tenant-" + scope;
            int cached = engine.reusePrefix(s, scopeName, prompt);
            prefixHits += cached > 0 ? 1 : 0;
            opened++;
            // LM-Infinite sequences run well past their window of 16
            int decode = k.policy() instanceof AttentionPolicy.LmInfinite ? 24 + rnd.nextInt(16) : 1 + rnd.nextInt(12);
            running.add(new Live(s, scopeName, prompt, cached, decode));
        }

        /**
         * Finishes every sequence and brings the resident state to the same shape each time: one short sequence of
         * each adapter alone (their cached slot weights), then the prefix cache refilled with the flush prompts.
         * Returns the live arrays then.
         */
        int settle(List<ResidentAdapter> adapters, ResidentAdapter churned) {
            running.forEach(l -> engine.release(l.seq));
            running.clear();
            List<ResidentAdapter> all = new ArrayList<>(adapters);
            all.add(churned);
            for (ResidentAdapter a : all) {
                Sequence s = engine.open(AttentionPolicy.FULL, a);
                engine.step(List.of(StepInput.next(s, 5, 6, 7)));
                engine.step(List.of(StepInput.next(s, 8)));
                engine.release(s);
            }
            Random fixed = new Random(1);
            for (int i = 0; i < FLUSH_PROMPTS; i++) {
                int[] p = fixed.ints(33, 4, vocab).toArray();
                Sequence s = engine.open(AttentionPolicy.FULL, null);
                int cached = engine.reusePrefix(s, "flush", p);
                engine.step(List.of(StepInput.next(s, Arrays.copyOfRange(p, cached, p.length))));
                engine.rememberPrefix(s, "flush", p);
                engine.release(s);
            }
            assertThat(engine.prefixCacheBytes()).as("the flush prompts fill the prefix cache").isEqualTo(
                    FLUSH_PROMPTS * 32 * engine.kvBytesPerEntry());
            return engine.liveArrays();
        }
    }
}
