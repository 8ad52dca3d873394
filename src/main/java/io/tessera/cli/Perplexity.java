package io.tessera.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.Engine;
import io.tessera.engine.EngineOptions;
import io.tessera.engine.ModelConfig;
import io.tessera.engine.Sequence;
import io.tessera.engine.StepInput;
import io.tessera.engine.adapter.AdapterLoader;
import io.tessera.engine.ResidentAdapter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Perplexity = exp(mean over windows of the mean NLL of tokens 2..T given their prefix). All windows run
 * together, prefilled in chunks, so long windows exercise chunked prefill and LM-Infinite's bounded cache.
 */
@Command(name = "perplexity", description = "Perplexity of token windows: `ppl=<x> windows=<n> tokens=<t>`.")
public final class Perplexity implements Callable<Integer> {
    public record Score(double meanNll, int windows, int tokens) {
        public double ppl() {
            return Math.exp(meanNll);
        }
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", required = true, description = "the base model's directory")
    Path model;

    @Option(names = "--windows", paramLabel = "FILE", required = true, description = "a JSON array of token-id arrays")
    Path windowsFile;

    @Option(names = "--adapter", paramLabel = "DIR", description = "a PEFT adapter directory")
    Path adapter;

    @Option(names = "--attention", paramLabel = "full|lm-infinite[:G,L,D]", defaultValue = "full",
            description = "attention policy of every window")
    String attention;

    @Option(names = "--chunk", paramLabel = "N", defaultValue = "256", description = "prefill chunk")
    int chunk;

    @Mixin
    EngineArgs engine;

    @Override
    public Integer call() throws IOException {
        Main.inRange(spec, "--chunk", chunk, 1, 1 << 20);
        Score s = evaluate(model, adapter, attention, readWindows(windowsFile), chunk, engine.prepare(1));
        System.out.printf("ppl=%.4f windows=%d tokens=%d%n", s.ppl(), s.windows(), s.tokens());
        return 0;
    }

    public static List<int[]> readWindows(Path file) throws IOException {
        JsonNode arr = new ObjectMapper().readTree(Files.readString(file));
        if (arr == null || !arr.isArray()) {
            throw new IllegalArgumentException(file + ": expected a JSON array of token-id arrays");
        }
        List<int[]> windows = new ArrayList<>();
        arr.forEach(w -> windows.add(VerifyFixtures.ints(w)));
        return windows;
    }

    public static Score evaluate(Path modelDir, Path adapterDir, String attention, List<int[]> windows, int chunk,
                                 EngineOptions.Device device) {
        int longest = windows.stream().mapToInt(w -> w.length).max().orElse(0);
        ModelConfig config = ModelConfig.load(modelDir);
        AttentionPolicy policy = AttentionPolicy.parse(attention, config);
        // full attention needs every position in the cache; the evaluation may go past the trained length on purpose
        int capacity = Math.max(config.maxPositionEmbeddings(), longest) + 64;
        EngineOptions opts = new EngineOptions(modelDir, device, windows.size(), capacity);
        try (Engine engine = Engine.open(opts)) {
            ResidentAdapter adapter = adapterDir == null ? null
                    : engine.adapters().install(1, new AdapterLoader(engine.model()).load(adapterDir), adapterDir.toString());
            return score(engine, adapter, policy, windows, chunk);
        }
    }

    static Score score(Engine engine, ResidentAdapter adapter, AttentionPolicy policy, List<int[]> windows, int chunk) {
        int vocab = engine.config().vocabSize();
        Sequence[] seqs = new Sequence[windows.size()];
        double[] nll = new double[windows.size()];
        for (int i = 0; i < seqs.length; i++) {
            seqs[i] = engine.open(policy, adapter);
        }
        int longest = windows.stream().mapToInt(w -> w.length).max().orElse(0);
        for (int from = 0; from < longest; from += chunk) {
            List<StepInput> step = new ArrayList<>();
            List<Integer> who = new ArrayList<>();
            for (int i = 0; i < seqs.length; i++) {
                int[] w = windows.get(i);
                if (from < w.length) {
                    step.add(new StepInput(seqs[i], Arrays.copyOfRange(w, from, Math.min(w.length, from + chunk)), true));
                    who.add(i);
                }
            }
            List<float[]> logits = engine.step(step);
            for (int k = 0; k < who.size(); k++) {
                int i = who.get(k);
                int[] w = windows.get(i);
                float[] l = logits.get(k);
                int n = l.length / vocab;
                for (int j = 0; j < n; j++) {
                    int target = from + j + 1;
                    if (target < w.length) {
                        nll[i] += logSumExp(l, j * vocab, vocab) - l[j * vocab + w[target]];
                    }
                }
            }
        }
        double mean = 0;
        int tokens = 0;
        for (int i = 0; i < seqs.length; i++) {
            engine.release(seqs[i]);
            mean += nll[i] / (windows.get(i).length - 1);
            tokens += windows.get(i).length;
        }
        return new Score(mean / seqs.length, seqs.length, tokens);
    }

    static double logSumExp(float[] a, int from, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, a[from + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(a[from + i] - max);
        }
        return max + Math.log(sum);
    }
}
