package io.tessera.cli;

import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.Engine;
import io.tessera.engine.EngineOptions;
import io.tessera.engine.ModelConfig;
import io.tessera.engine.RandomWeights;
import io.tessera.engine.Sequence;
import io.tessera.engine.StepInput;
import io.tessera.engine.adapter.AdapterConfig;
import io.tessera.engine.adapter.AdapterLoader;
import io.tessera.engine.ResidentAdapter;
import io.tessera.engine.safetensors.SafetensorsWriter;
import io.tessera.util.Io;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Benchmarks that print ratios measured within one run (the machines are noisy; compare only inside a run). */
@Command(name = "bench", description = "Benchmarks; each prints its ratio measured within the run.",
        subcommands = {Bench.Decode.class, Bench.Adapters.class, Bench.Prefix.class, Bench.LongContext.class,
            Bench.SoakCommand.class, ServeBench.class, StructuredBench.class})
public final class Bench implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "bench needs decode, adapters, prefix, long-context, soak, serve or structured");
    }

    /** An engine benchmark: the model, the engine's device and threads; counts bounded, so a typo cannot ask for terabytes. */
    abstract static class Run implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @ArgGroup(multiplicity = "1")
        ModelChoice base;

        @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "the random weights' seed (with --config)")
        long seed;

        @Mixin
        EngineArgs engine;

        int bounded(String option, int value, int max) {
            return Main.inRange(spec, option, value, 1, max);
        }

        /** The model, after setting the engine's threads; a --config file is read and bounded here, before any engine opens. */
        BenchModel model() {
            EngineOptions.Device device = engine.prepare(1);
            return base.config == null ? new BenchModel(base.dir, null, device)
                    : new BenchModel(base.config.toAbsolutePath().getParent(), RandomWeights.load(base.config, seed), device);
        }

        @Override
        public Integer call() throws IOException {
            run(System.out);
            return 0;
        }

        abstract void run(PrintStream out) throws IOException;
    }

    /** The base model of a benchmark: a directory, or an HF config.json whose shape gets random weights in memory. */
    static final class ModelChoice {
        @Option(names = "--model", paramLabel = "DIR", required = true, description = "the base model's directory")
        Path dir;

        @Option(names = "--config", paramLabel = "FILE", required = true,
                description = "an HF config.json instead: random weights of its shape built in memory (no tokenizer or weights on disk)")
        Path config;
    }

    /** What a benchmark opens engines on. {@code random} is null for a model directory. */
    record BenchModel(Path dir, RandomWeights random, EngineOptions.Device device) {
        String name() {
            return random == null ? dir.getFileName().toString() : random.file().getFileName().toString();
        }

        ModelConfig config() {
            return random == null ? ModelConfig.load(dir) : random.config();
        }

        /** An engine with {@code slots} KV slots of {@code capacity} entries (0: the model's default) and a prefix cache of that many bytes. */
        Engine open(int slots, int capacity, long prefixCacheBytes) {
            EngineOptions options = new EngineOptions(dir, device, slots, capacity, prefixCacheBytes);
            Engine engine = random == null ? Engine.open(options) : Engine.open(options, random.config(), random);
            // the weights' host copies are garbage now: a full collection lets the serial collector of bin/tessera
            // hand the heap they took back (MaxHeapFreeRatio) before the measured work adds to the process's size
            System.gc();
            return engine;
        }
    }

    // ---- decode ----

    @Command(name = "decode", description = "Prefill and decode tokens/s of B sequences.")
    static final class Decode extends Run {
        @Option(names = "--batch", paramLabel = "B", defaultValue = "8", description = "sequences")
        int batch;

        @Option(names = "--steps", paramLabel = "N", defaultValue = "64", description = "decode steps")
        int steps;

        @Option(names = "--prompt", paramLabel = "N", defaultValue = "32", description = "prompt tokens")
        int prompt;

        @Override
        void run(PrintStream out) {
            int b = bounded("--batch", batch, 4096);
            int s = bounded("--steps", steps, 1 << 20);
            int p = bounded("--prompt", prompt, 1 << 20);
            decode(model(), b, s, p, out);
        }
    }

    private static void decode(BenchModel model, int batch, int steps, int prompt, PrintStream out) {
        try (Engine engine = model.open(batch, capacityFor(prompt, steps), 0)) {
            out.printf("model=%s device=%s batch=%d prompt=%d steps=%d%n", model.name(), engine.device(), batch, prompt, steps);
            Rates r = decodeRun(engine, batch, prompt, steps, i -> null, AttentionPolicy.FULL, !engine.device().isGpu());
            out.println("phase    tokens  seconds  tokens/s");
            out.printf("prefill  %6d  %7.3f  %8.1f%n", r.prefillTokens, r.prefillSeconds, r.prefillTokens / r.prefillSeconds);
            out.printf("decode   %6d  %7.3f  %8.1f%n", r.decodeTokens, r.decodeSeconds, r.decodeTokens / r.decodeSeconds);
            out.printf("decode cpu %.3f ms/step (median, stepping thread)%n", r.cpuMsPerStep);
            if (r.opsPerStep >= 0) {
                out.printf("ops/step %d (libtorch ops of one decode step at batch %d)%n", r.opsPerStep, batch);
            }
            out.printf("peak rss %d MiB  (native weights %d MiB, kv cache %d MiB, java heap committed %d MiB)%n", peakRssKb() >> 10,
                    engine.model().weightBytes() >> 20,
                    (long) engine.maxSequences() * engine.cacheCapacity() * engine.kvBytesPerEntry() >> 20, heapMb());
        }
    }

    /** KV entries a bench sequence needs: its prompt, the warm-up steps and the timed ones (the model's length would be far more). */
    private static int capacityFor(int prompt, int steps) {
        return prompt + WARMUP_STEPS + steps + 1;
    }

    private static final int WARMUP_STEPS = 4;

    /**
     * @param opsPerStep libtorch ops of one more decode step, counted apart from the timed ones ({@link OpCount}); -1: not counted
     * @param cpuMsPerStep median CPU time of the stepping thread per decode step: at one engine thread the step's whole
     *                     work, and unlike wall time not stretched when other processes take the cores
     */
    record Rates(int prefillTokens, double prefillSeconds, int decodeTokens, double decodeSeconds, int opsPerStep,
                 double cpuMsPerStep) {
        double decodeRate() {
            return decodeTokens / decodeSeconds;
        }
    }

    /**
     * Tokens of one prefill step: the service's default {@code tessera.scheduler.max-tokens-per-step}, so a bench step
     * is no larger (and holds no more activations) than a step of the service.
     */
    static final int PREFILL_STEP_TOKENS = 512;

    /** B sequences with random prompts prefilled in steps of at most 512 tokens, then greedy decode steps for all of them. */
    static Rates decodeRun(Engine engine, int batch, int prompt, int steps, java.util.function.IntFunction<ResidentAdapter> adapterOf,
                         AttentionPolicy policy) {
        return decodeRun(engine, batch, prompt, steps, adapterOf, policy, false);
    }

    /** With {@code countOps}, one more decode step after the timed ones runs under the profiler (CPU only). */
    static Rates decodeRun(Engine engine, int batch, int prompt, int steps, java.util.function.IntFunction<ResidentAdapter> adapterOf,
                         AttentionPolicy policy, boolean countOps) {
        Random rnd = new Random(42);
        int vocab = engine.config().vocabSize();
        List<Sequence> seqs = new ArrayList<>();
        int[][] prompts = new int[batch][];
        for (int i = 0; i < batch; i++) {
            seqs.add(engine.open(policy, adapterOf.apply(i)));
            prompts[i] = rnd.ints(prompt, 4, vocab).toArray();
        }
        long t0 = System.nanoTime();
        List<float[]> logits = prefill(engine, seqs, prompts);
        long t1 = System.nanoTime();
        // warm-up decode steps outside the timing: the first ones pay allocator and JIT costs
        for (int w = 0; w < WARMUP_STEPS; w++) {
            logits = engine.step(nextTokens(seqs, logits, vocab));
        }
        long[] times = new long[steps];
        long[] cpu = new long[steps];
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int s = 0; s < steps; s++) {
            long c = threads.getCurrentThreadCpuTime();
            long t = System.nanoTime();
            logits = engine.step(nextTokens(seqs, logits, vocab));
            times[s] = System.nanoTime() - t;
            cpu[s] = threads.getCurrentThreadCpuTime() - c;
        }
        List<StepInput> next = nextTokens(seqs, logits, vocab);
        int ops = countOps ? OpCount.of(() -> engine.step(next)) : -1;
        seqs.forEach(engine::release);
        // the median step, scaled to all steps: robust against other processes on a shared 2-core machine
        double decodeSeconds = median(times) / 1e9 * steps;
        return new Rates(batch * prompt, (t1 - t0) / 1e9, batch * steps, decodeSeconds, ops, median(cpu) / 1e6);
    }

    /** Each sequence's prompt, in steps of at most {@link #PREFILL_STEP_TOKENS} tokens; the logits of every prompt's end. */
    private static List<float[]> prefill(Engine engine, List<Sequence> seqs, int[][] prompts) {
        float[][] last = new float[seqs.size()][];
        int[] done = new int[seqs.size()];
        for (int from = 0; from < seqs.size(); ) {
            List<StepInput> in = new ArrayList<>();
            List<Integer> rows = new ArrayList<>();
            int budget = PREFILL_STEP_TOKENS;
            for (int i = from; i < seqs.size() && budget > 0; i++) {
                int n = Math.min(prompts[i].length - done[i], budget);
                in.add(StepInput.next(seqs.get(i), Arrays.copyOfRange(prompts[i], done[i], done[i] + n)));
                rows.add(i);
                done[i] += n;
                budget -= n;
            }
            List<float[]> out = engine.step(in);
            for (int k = 0; k < rows.size(); k++) {
                last[rows.get(k)] = out.get(k);
            }
            while (from < seqs.size() && done[from] == prompts[from].length) {
                from++;
            }
        }
        return Arrays.asList(last);
    }

    private static List<StepInput> nextTokens(List<Sequence> seqs, List<float[]> logits, int vocab) {
        List<StepInput> in = new ArrayList<>(seqs.size());
        for (int i = 0; i < seqs.size(); i++) {
            in.add(StepInput.next(seqs.get(i), VerifyFixtures.argmax(logits.get(i), 0, vocab)));
        }
        return in;
    }

    // ---- prefix ----

    /**
     * Time to the first token's logits for one prompt: new each round (cold) against the same one again (its whole
     * blocks from the prefix cache), rounds interleaved, medians compared.
     */
    @Command(name = "prefix", description = "A prompt's prefill new each round vs the same prompt from the prefix cache "
            + "(medians), `ratio cached/cold`.")
    static final class Prefix extends Run {
        @Option(names = "--prompt", paramLabel = "N", defaultValue = "200", description = "prompt tokens")
        int prompt;

        @Option(names = "--rounds", paramLabel = "N", defaultValue = "10", description = "cold and cached runs each")
        int rounds;

        @Override
        void run(PrintStream out) {
            int p = bounded("--prompt", prompt, 1 << 20);
            int r = bounded("--rounds", rounds, 1 << 16);
            prefix(model(), p, r, out);
        }
    }

    private static void prefix(BenchModel model, int prompt, int rounds, PrintStream out) {
        try (Engine engine = model.open(1, prompt + 1, 64L << 20)) {
            Random rnd = new Random(42);
            int vocab = engine.config().vocabSize();
            int[] shared = rnd.ints(prompt, 4, vocab).toArray();
            firstLogits(engine, shared);   // fills the cache, and warms up
            long[] cold = new long[rounds];
            long[] hit = new long[rounds];
            int cached = 0;
            for (int r = 0; r < rounds; r++) {
                long t = System.nanoTime();
                firstLogits(engine, rnd.ints(prompt, 4, vocab).toArray());
                cold[r] = System.nanoTime() - t;
                t = System.nanoTime();
                cached = firstLogits(engine, shared);
                hit[r] = System.nanoTime() - t;
            }
            out.printf("model=%s device=%s prompt=%d rounds=%d%n", model.name(), engine.device(), prompt, rounds);
            out.printf("cold prefill   %8.2f ms%n", median(cold) / 1e6);
            out.printf("cached prefill %8.2f ms  (%d of %d tokens from the cache)%n", median(hit) / 1e6, cached, prompt);
            out.printf("ratio cached/cold = %.3f%n", median(hit) / median(cold));
        }
    }

    /** Runs one prompt to its first logits as the scheduler does; returns the tokens the prefix cache gave. */
    private static int firstLogits(Engine engine, int[] prompt) {
        Sequence s = engine.open(AttentionPolicy.FULL, null);
        int cached = engine.reusePrefix(s, "bench", prompt);
        engine.step(List.of(StepInput.next(s, Arrays.copyOfRange(prompt, cached, prompt.length))));
        engine.rememberPrefix(s, "bench", prompt);
        engine.release(s);
        return cached;
    }

    // ---- adapters ----

    /** Shared by the adapter benchmarks: B rows, N LoRAs of one rank. */
    abstract static class AdapterRun extends Run {
        @Option(names = "--batch", paramLabel = "B", defaultValue = "32", description = "sequences")
        int batch;

        @Option(names = "--adapters", paramLabel = "N", defaultValue = "16", description = "LoRAs, row i on i %% N")
        int adapters;

        @Option(names = "--rank", paramLabel = "R", defaultValue = "16", description = "their rank")
        int rank;

        int batch() {
            return bounded("--batch", batch, 4096);
        }

        int adapters() {
            return bounded("--adapters", adapters, 1024);
        }

        int rank() {
            return bounded("--rank", rank, 1024);
        }
    }

    @Command(name = "adapters", description = "Base-only vs mixed-adapter decode, adapter load p50/p95, `ratio adapters/base`.")
    static final class Adapters extends AdapterRun {
        @Option(names = "--steps", paramLabel = "N", defaultValue = "32", description = "decode steps per round")
        int steps;

        @Option(names = "--rounds", paramLabel = "N", defaultValue = "5", description = "interleaved rounds, best of each")
        int rounds;

        @Override
        void run(PrintStream out) throws IOException {
            int b = batch();
            int n = adapters();
            int r = rank();
            int s = bounded("--steps", steps, 1 << 20);
            Bench.adapters(model(), b, n, r, s, bounded("--rounds", rounds, 1 << 16), out);
        }
    }

    private static void adapters(BenchModel model, int batch, int count, int rank, int steps, int rounds, PrintStream out) throws IOException {
        Path dir = Files.createTempDirectory("tessera-bench-adapters");
        try (Engine engine = model.open(batch, capacityFor(16, Math.max(steps, WARMUP_STEPS)), 0)) {
            List<Path> dirs = new ArrayList<>();
            Random rnd = new Random(7);
            for (int i = 0; i < count; i++) {
                dirs.add(writeRandomLora(dir.resolve("a" + i), engine.config(), rank, rnd));
            }
            AdapterLoader loader = new AdapterLoader(engine.model());
            // sized as the service sizes it: for tessera.adapters.budget-bytes' default
            engine.adapters().reserve(1L << 30);
            double[] loadMs = new double[count];
            double[] loadCpuMs = new double[count];
            ResidentAdapter[] resident = new ResidentAdapter[count];
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            for (int i = 0; i < count; i++) {
                long t = System.nanoTime();
                long cpu = threads.getCurrentThreadCpuTime();
                resident[i] = engine.adapters().install(i + 1, loader.load(dirs.get(i)), "bench-" + i);
                loadCpuMs[i] = (threads.getCurrentThreadCpuTime() - cpu) / 1e6;
                loadMs[i] = (System.nanoTime() - t) / 1e6;
            }
            Arrays.sort(loadMs);
            Arrays.sort(loadCpuMs);
            // warm-up of both paths, then interleaved rounds, best of each: other load on the machine hits both alike
            decodeRun(engine, batch, 16, 4, i -> null, AttentionPolicy.FULL);
            decodeRun(engine, batch, 16, 4, i -> resident[i % count], AttentionPolicy.FULL);
            double baseRate = 0;
            double mixedRate = 0;
            double baseCpu = Double.MAX_VALUE;
            double mixedCpu = Double.MAX_VALUE;
            boolean countOps = !engine.device().isGpu();
            int baseOps = -1;
            int mixedOps = -1;
            for (int round = 0; round < rounds; round++) {
                Rates base = decodeRun(engine, batch, 16, steps, i -> null, AttentionPolicy.FULL, countOps && round == 0);
                Rates mixed = decodeRun(engine, batch, 16, steps, i -> resident[i % count], AttentionPolicy.FULL, countOps && round == 0);
                baseOps = round == 0 ? base.opsPerStep() : baseOps;
                mixedOps = round == 0 ? mixed.opsPerStep() : mixedOps;
                baseRate = Math.max(baseRate, base.decodeRate());
                mixedRate = Math.max(mixedRate, mixed.decodeRate());
                baseCpu = Math.min(baseCpu, base.cpuMsPerStep());
                mixedCpu = Math.min(mixedCpu, mixed.cpuMsPerStep());
            }
            out.printf("model=%s device=%s batch=%d adapters=%d rank=%d steps=%d%n", model.name(), engine.device(), batch, count, rank, steps);
            out.printf("base-only decode  %8.1f tokens/s  cpu %.3f ms/step  ops/step %d%n", baseRate, baseCpu, baseOps);
            out.printf("mixed decode      %8.1f tokens/s  cpu %.3f ms/step  ops/step %d%n", mixedRate, mixedCpu, mixedOps);
            // cold: from the files to resident (parse, validate, convert, install); the CPU time leaves out other
            // processes' share of a busy machine
            int p95 = Math.min(count - 1, (int) Math.ceil(count * 0.95) - 1);
            out.printf("adapter load      p50=%.1f ms  p95=%.1f ms  (cpu p50=%.1f ms  p95=%.1f ms)%n", loadMs[count / 2], loadMs[p95],
                    loadCpuMs[count / 2], loadCpuMs[p95]);
            out.printf("ratio adapters/base = %.3f  (cpu per step: %.3f)%n", mixedRate / baseRate, baseCpu / mixedCpu);
        } finally {
            Io.deleteTree(dir);
        }
    }

    /** A PEFT LoRA directory on all seven projections with random weights of a realistic scale. */
    static Path writeRandomLora(Path dir, ModelConfig c, int rank, Random rnd) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(AdapterConfig.FILE), """
                {"peft_type":"LORA","r":%d,"lora_alpha":%d,"target_modules":["q_proj","k_proj","v_proj","o_proj","gate_proj","up_proj","down_proj"],
                 "fan_in_fan_out":false,"use_rslora":false,"use_dora":false,"modules_to_save":null,"bias":"none"}
                """.formatted(rank, 2 * rank));
        SafetensorsWriter w = new SafetensorsWriter();
        int hd = c.numHeads() * c.headDim();
        int kvd = c.numKvHeads() * c.headDim();
        String[][] mods = {{"self_attn.q_proj", "" + c.hiddenSize(), "" + hd}, {"self_attn.k_proj", "" + c.hiddenSize(), "" + kvd},
            {"self_attn.v_proj", "" + c.hiddenSize(), "" + kvd}, {"self_attn.o_proj", "" + hd, "" + c.hiddenSize()},
            {"mlp.gate_proj", "" + c.hiddenSize(), "" + c.intermediateSize()}, {"mlp.up_proj", "" + c.hiddenSize(), "" + c.intermediateSize()},
            {"mlp.down_proj", "" + c.intermediateSize(), "" + c.hiddenSize()}};
        for (int l = 0; l < c.numLayers(); l++) {
            for (String[] m : mods) {
                int in = Integer.parseInt(m[1]);
                int outDim = Integer.parseInt(m[2]);
                String p = "base_model.model.model.layers." + l + "." + m[0];
                w.add(p + ".lora_A.weight", gaussian(rnd, rank * in, 0.02f), rank, in);
                w.add(p + ".lora_B.weight", gaussian(rnd, outDim * rank, 0.02f), outDim, rank);
            }
        }
        w.write(dir.resolve("adapter_model.safetensors"));
        return dir;
    }

    static float[] gaussian(Random rnd, int n, float std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian() * std;
        }
        return v;
    }

    // ---- soak ----

    /**
     * Memory under a long mixed-adapter load: B sequences, row i on LoRA i % N, decode continuously; a sequence that
     * reaches its length is released and a new one starts (slots move, prompts hit and fill the prefix cache). After
     * a warm-up that builds every cached structure, RSS and live native arrays at the start and the end.
     */
    @Command(name = "soak", description = "Memory under continuous mixed-LoRA decode: RSS, Java heap and live native arrays "
            + "every 30 s after the warm-up, `rss growth = X%%`.")
    static final class SoakCommand extends AdapterRun {
        @Option(names = "--minutes", paramLabel = "M", defaultValue = "3", description = "measured time")
        double minutes;

        @Option(names = "--warmup-seconds", paramLabel = "S", defaultValue = "30", description = "load before the first measurement")
        int warmup;

        @Override
        void run(PrintStream out) throws IOException {
            if (!(minutes > 0 && minutes <= 24 * 60)) {
                throw new ParameterException(spec.commandLine(), "--minutes must be above 0 and at most 1440 (got " + minutes + ")");
            }
            int w = Main.inRange(spec, "--warmup-seconds", warmup, 0, 86_400);
            Bench.soak(model(), minutes, w, batch(), adapters(), rank(), out);
        }
    }

    private static void soak(BenchModel model, double minutes, int warmup, int batch, int count, int rank, PrintStream out) throws IOException {
        Path dir = Files.createTempDirectory("tessera-bench-soak");
        try (Engine engine = model.open(batch, Soak.MAX_LENGTH, 16L << 20)) {
            AdapterLoader loader = new AdapterLoader(engine.model());
            Random rnd = new Random(11);
            ResidentAdapter[] resident = new ResidentAdapter[count];
            for (int i = 0; i < count; i++) {
                resident[i] = engine.adapters().install(i + 1, loader.load(writeRandomLora(dir.resolve("a" + i), engine.config(), rank, rnd)), "soak-" + i);
            }
            out.printf("model=%s device=%s batch=%d adapters=%d rank=%d minutes=%.1f warm-up=%ds%n", model.name(),
                    engine.device(), batch, count, rank, minutes, warmup);
            Soak soak = new Soak(engine, resident, batch, rnd);
            soak.runFor(warmup * 1_000_000_000L, null);
            long rss0 = rssKb();
            int arrays0 = engine.liveArrays();
            long steps0 = soak.steps;
            out.printf("start  rss=%d MB  java heap=%d MB  live arrays=%d%n", rss0 >> 10, heapMb(), arrays0);
            soak.runFor((long) (minutes * 60e9), (seconds, steps) -> out.printf("t=%3ds  rss=%d MB  java heap=%d MB  live arrays=%d  steps=%d%n",
                    seconds, rssKb() >> 10, heapMb(), engine.liveArrays(), steps - steps0));
            long rss1 = rssKb();
            out.printf("end    rss=%d MB  java heap=%d MB  live arrays=%d  steps=%d  sequences=%d  prefix hits=%d%n", rss1 >> 10,
                    heapMb(), engine.liveArrays(), soak.steps - steps0, soak.started, soak.prefixHits);
            out.printf("rss growth = %.1f%%%n", 100.0 * (rss1 - rss0) / rss0);
        } finally {
            Io.deleteTree(dir);
        }
    }

    /** The soak's load: a full batch of LoRA rows that restart at their length. */
    private static final class Soak {
        /** The longest sequence: a 32-token shared start, up to 31 more prompt tokens, up to 63 decode steps. */
        static final int MAX_LENGTH = 32 + 31 + 63;
        private final Engine engine;
        private final ResidentAdapter[] adapters;
        private final Random rnd;
        private final int vocab;
        private final int[][] shared;             // per adapter, the start many of its prompts share
        private final Sequence[] seqs;
        private final int[][] prompts;
        private final int[] lengths;
        private final int[] next;
        long steps;
        long started;
        long prefixHits;

        Soak(Engine engine, ResidentAdapter[] adapters, int batch, Random rnd) {
            this.engine = engine;
            this.adapters = adapters;
            this.rnd = rnd;
            this.vocab = engine.config().vocabSize();
            this.shared = new int[adapters.length][];
            for (int i = 0; i < adapters.length; i++) {
                shared[i] = rnd.ints(32, 4, vocab).toArray();
            }
            this.seqs = new Sequence[batch];
            this.prompts = new int[batch][];
            this.lengths = new int[batch];
            this.next = new int[batch];
        }

        /** Steps for {@code nanos}; every 30 s reports (seconds, steps) to {@code progress} if given. */
        void runFor(long nanos, java.util.function.ObjLongConsumer<Integer> progress) {
            long start = System.nanoTime();
            long report = 30;
            while (System.nanoTime() - start < nanos) {
                step();
                long seconds = (System.nanoTime() - start) / 1_000_000_000L;
                if (progress != null && seconds >= report) {
                    progress.accept((int) seconds, steps);
                    report += 30;
                }
            }
        }

        private void step() {
            List<StepInput> inputs = new ArrayList<>(seqs.length);
            for (int i = 0; i < seqs.length; i++) {
                if (seqs[i] == null) {
                    start(i);
                    int cached = engine.reusePrefix(seqs[i], "soak", prompts[i]);
                    prefixHits += cached > 0 ? 1 : 0;
                    inputs.add(StepInput.next(seqs[i], Arrays.copyOfRange(prompts[i], cached, prompts[i].length)));
                } else {
                    inputs.add(StepInput.next(seqs[i], next[i]));
                }
            }
            List<float[]> logits = engine.step(inputs);
            steps++;
            for (int i = 0; i < seqs.length; i++) {
                Sequence s = seqs[i];
                if (s.length() == prompts[i].length) {
                    engine.rememberPrefix(s, "soak", prompts[i]);
                }
                next[i] = VerifyFixtures.argmax(logits.get(i), 0, vocab);
                if (s.length() >= lengths[i]) {
                    engine.release(s);
                    seqs[i] = null;
                }
            }
        }

        /** Row i's next sequence: its adapter's shared start (or not) and a random tail, then 16-64 decode steps. */
        private void start(int i) {
            int adapter = i % adapters.length;
            int[] p = rnd.ints(8 + rnd.nextInt(24), 4, vocab).toArray();
            if (rnd.nextBoolean()) {
                int[] withShared = Arrays.copyOf(shared[adapter], 32 + p.length);
                System.arraycopy(p, 0, withShared, 32, p.length);
                p = withShared;
            }
            seqs[i] = engine.open(AttentionPolicy.FULL, adapters[adapter]);
            prompts[i] = p;
            lengths[i] = p.length + 16 + rnd.nextInt(48);
            started++;
        }
    }

    /** Java heap committed (part of RSS; it grows to what the allocation rate asks for, then stays). */
    private static long heapMb() {
        return Runtime.getRuntime().totalMemory() >> 20;
    }

    /** VmRSS of this process in kB, from /proc/self/status (Linux); -1 elsewhere. */
    static long rssKb() {
        return procStatusKb("VmRSS:");
    }

    /** VmHWM, the peak RSS of this process so far, in kB; -1 off Linux. */
    static long peakRssKb() {
        return procStatusKb("VmHWM:");
    }

    private static long procStatusKb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux: reported as -1
        }
        return -1;
    }

    // ---- long context ----

    @Command(name = "long-context", description = "Decode ms/token and KV bytes per sequence for `full` and `lm-infinite`, "
            + "`ratio lm-infinite last/first`.")
    static final class LongContext extends Run {
        @Option(names = "--contexts", paramLabel = "N,N,...", split = ",", defaultValue = "1024,8192,32768",
                description = "context lengths")
        int[] contexts;

        @Option(names = "--steps", paramLabel = "N", defaultValue = "64", description = "decode steps timed")
        int steps;

        @Option(names = "--attention", paramLabel = "lm-infinite[:G,L,D]", defaultValue = "lm-infinite",
                description = "the bounded policy")
        String attention;

        @Option(names = "--full-max-mb", paramLabel = "MB", defaultValue = "2048",
                description = "full attention's KV cache above this is skipped")
        int fullMaxMb;

        @Override
        void run(PrintStream out) {
            for (int c : contexts) {
                bounded("--contexts", c, 1 << 24);
            }
            int s = bounded("--steps", steps, 1 << 20);
            long limit = bounded("--full-max-mb", fullMaxMb, 1 << 20) * 1024L * 1024L;
            longContext(model(), contexts, s, attention, limit, out);
        }
    }

    private static void longContext(BenchModel model, int[] contexts, int steps, String attention, long fullLimitBytes, PrintStream out) {
        ModelConfig config = model.config();
        AttentionPolicy lmInf = AttentionPolicy.parse(attention, config);
        out.printf("model=%s steps=%d lm-infinite=%s%n", model.name(), steps, lmInf);
        out.println("policy        context  decode-ms/token  kv-bytes/seq");
        for (int ctx : contexts) {
            int capacity = ctx + steps + 16;
            if ((long) capacity * config.kvBytesPerEntry(4) > fullLimitBytes) {
                out.printf("%-12s  %7d  %15s  %12s%n", "full", ctx, "(does not fit)", "-");
                continue;
            }
            try (Engine engine = model.open(1, capacity, 0)) {
                Sequence s = prefilled(engine, AttentionPolicy.FULL, ctx);
                double ms = decodeMillis(engine, s, steps, 3);
                out.printf("%-12s  %7d  %15.2f  %12d%n", "full", ctx, ms, engine.kvBytes(s));
            }
        }
        // LM-Infinite: all contexts in one engine, timed in interleaved rounds so machine noise hits them alike
        try (Engine engine = model.open(contexts.length, 0, 0)) {
            Sequence[] seqs = new Sequence[contexts.length];
            for (int i = 0; i < contexts.length; i++) {
                seqs[i] = prefilled(engine, lmInf, contexts[i]);
            }
            double[] best = new double[contexts.length];
            Arrays.fill(best, Double.MAX_VALUE);
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < contexts.length; i++) {
                    best[i] = Math.min(best[i], decodeMillis(engine, seqs[i], steps, round == 0 ? 8 : 0));
                }
            }
            for (int i = 0; i < contexts.length; i++) {
                out.printf("%-12s  %7d  %15.2f  %12d%n", "lm-infinite", contexts[i], best[i], engine.kvBytes(seqs[i]));
            }
            out.printf("ratio lm-infinite %d/%d = %.3f%n", contexts[contexts.length - 1], contexts[0], best[contexts.length - 1] / best[0]);
        }
    }

    /** A sequence with ctx random tokens prefilled in chunks of 256. */
    private static Sequence prefilled(Engine engine, AttentionPolicy policy, int ctx) {
        Random rnd = new Random(3);
        Sequence s = engine.open(policy, null);
        for (int from = 0; from < ctx; from += 256) {
            engine.step(List.of(StepInput.next(s, rnd.ints(Math.min(256, ctx - from), 4, engine.config().vocabSize()).toArray())));
        }
        return s;
    }

    /** Median milliseconds of one decode step of s alone, after some untimed warm-up steps. */
    private static double decodeMillis(Engine engine, Sequence s, int steps, int warmup) {
        int vocab = engine.config().vocabSize();
        int next = 4;
        long[] times = new long[steps];
        for (int i = -warmup; i < steps; i++) {
            long t = System.nanoTime();
            next = VerifyFixtures.argmax(engine.step(List.of(StepInput.next(s, next))).get(0), 0, vocab);
            if (i >= 0) {
                times[i] = System.nanoTime() - t;
            }
        }
        return median(times) / 1e6;
    }

    static double median(long[] v) {
        long[] c = v.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }
}
