package io.tessera.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.Checkpoint;
import io.tessera.engine.Engine;
import io.tessera.engine.EngineOptions;
import io.tessera.engine.RoutingTrace;
import io.tessera.engine.Sequence;
import io.tessera.engine.StepInput;
import io.tessera.engine.adapter.AdapterLoader;
import io.tessera.engine.ResidentAdapter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Golden-fixture conformance: every case of DIR/cases.json, alone or all cases of a model as one mixed batch.
 * Logits at the listed prompt positions within the tolerance, greedy tokens up to the first low-margin step,
 * and MoGE routing exactly.
 */
@Command(name = "verify-fixtures", description = "Golden conformance: one line per case, last `N passed, M failed`; "
        + "exit status 0 iff none failed.")
public final class VerifyFixtures implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "the fixtures directory (cases.json, expected_logits.safetensors)")
    Path dir;

    @Option(names = "--batch", description = "all cases of a model as one mixed batch instead of one by one")
    boolean batch;

    @Mixin
    EngineArgs engine;

    @Override
    public Integer call() throws IOException {
        List<Result> results = run(dir, batch, engine.prepare(1), System.out);
        return results.stream().allMatch(Result::pass) ? 0 : 1;
    }

    public record Result(String id, boolean pass, double maxAbs, int greedyMatched, int greedyRequired, String problem) {
        String line() {
            return (pass ? "PASS " : "FAIL ") + id + String.format(" max_abs=%.3g greedy=%d/%d", maxAbs, greedyMatched, greedyRequired)
                    + (problem == null ? "" : " (" + problem + ")");
        }
    }

    private static final double MARGIN = 1e-3;

    public static List<Result> run(Path dir, boolean batch, EngineOptions.Device device, PrintStream out) throws IOException {
        JsonNode root = new ObjectMapper().readTree(Files.readString(dir.resolve("cases.json")));
        double tol = root.path("tolerance").path("logits_max_abs").asDouble(1e-3);
        Map<String, List<JsonNode>> byModel = new LinkedHashMap<>();
        root.get("cases").forEach(c -> byModel.computeIfAbsent(c.get("model").asText(), k -> new ArrayList<>()).add(c));
        List<Result> results = new ArrayList<>();
        try (Checkpoint expected = Checkpoint.openFile(dir.resolve("expected_logits.safetensors"))) {
            for (Map.Entry<String, List<JsonNode>> e : byModel.entrySet()) {
                List<JsonNode> cases = e.getValue();
                int longest = cases.stream().mapToInt(c -> c.get("input_ids").size()).max().orElse(0) + 64;
                EngineOptions opts = new EngineOptions(dir.resolve(e.getKey()), device, cases.size(), 0);
                try (Engine engine = Engine.open(opts)) {
                    if (engine.cacheCapacity() < longest) {
                        throw new IllegalStateException("fixture longer than the KV capacity");
                    }
                    Map<String, ResidentAdapter> adapters = new HashMap<>();
                    AdapterLoader loader = new AdapterLoader(engine.model());
                    long nextId = 1;
                    for (JsonNode c : cases) {
                        String a = c.path("adapter").isNull() ? null : c.get("adapter").asText();
                        if (a != null && !adapters.containsKey(a)) {
                            adapters.put(a, engine.adapters().install(nextId++, loader.load(dir.resolve(a)), a));
                        }
                    }
                    List<List<JsonNode>> groups = new ArrayList<>();
                    if (batch) {
                        groups.add(cases);
                    } else {
                        cases.forEach(c -> groups.add(List.of(c)));
                    }
                    for (List<JsonNode> group : groups) {
                        for (Result r : runGroup(engine, group, adapters, expected, tol)) {
                            out.println(r.line());
                            results.add(r);
                        }
                    }
                }
            }
        }
        long passed = results.stream().filter(Result::pass).count();
        out.println(passed + " passed, " + (results.size() - passed) + " failed");
        return results;
    }

    private static List<Result> runGroup(Engine engine, List<JsonNode> group, Map<String, ResidentAdapter> adapters,
                                         Checkpoint expected, double tol) {
        int n = group.size();
        Sequence[] seqs = new Sequence[n];
        List<StepInput> prefill = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            JsonNode c = group.get(i);
            AttentionPolicy policy = policy(c.get("attention"));
            String a = c.path("adapter").isNull() ? null : c.get("adapter").asText();
            int[] prompt = ints(c.get("input_ids"));
            seqs[i] = engine.open(policy, a == null ? null : adapters.get(a), prompt.length);
            prefill.add(new StepInput(seqs[i], prompt, true));
        }
        RoutingTrace trace = new RoutingTrace();
        List<float[]> logits = engine.step(prefill, trace);
        int vocab = engine.config().vocabSize();
        double[] maxAbs = new double[n];
        String[] problem = new String[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            JsonNode c = group.get(i);
            float[] want = expected.read(c.get("logits_key").asText(), c.get("logits_positions").size(), vocab);
            float[] got = logits.get(i);
            int k = 0;
            for (JsonNode pos : c.get("logits_positions")) {
                int p = pos.asInt();
                for (int v = 0; v < vocab; v++) {
                    maxAbs[i] = Math.max(maxAbs[i], Math.abs(got[p * vocab + v] - want[k * vocab + v]));
                }
                k++;
            }
            int len = c.get("input_ids").size();
            next[i] = argmax(got, (len - 1) * vocab, vocab);
            if (c.has("routing") && !c.get("routing").isNull() && !routingEquals(c.get("routing"), trace.forInput(i))) {
                problem[i] = "routing differs";
            }
        }
        int steps = group.get(0).get("greedy_new_tokens").size();
        int[][] generated = new int[n][steps];
        for (int s = 0; s < steps; s++) {
            List<StepInput> decode = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                generated[i][s] = next[i];
                if (s + 1 < steps) {
                    decode.add(StepInput.next(seqs[i], next[i]));
                }
            }
            if (decode.isEmpty()) {
                break;
            }
            List<float[]> out = engine.step(decode);
            for (int i = 0; i < n; i++) {
                next[i] = argmax(out.get(i), 0, vocab);
            }
        }
        List<Result> results = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            JsonNode c = group.get(i);
            JsonNode wantTokens = c.get("greedy_new_tokens");
            JsonNode margins = c.get("greedy_margins");
            int required = 0;
            while (required < wantTokens.size() && margins.get(required).asDouble() >= MARGIN) {
                required++;
            }
            int matched = 0;
            while (matched < required && generated[i][matched] == wantTokens.get(matched).asInt()) {
                matched++;
            }
            boolean pass = maxAbs[i] <= tol && matched == required && problem[i] == null;
            results.add(new Result(c.get("id").asText(), pass, maxAbs[i], matched, required, problem[i]));
            engine.release(seqs[i]);
        }
        return results;
    }

    static AttentionPolicy policy(JsonNode a) {
        if (a == null || a.isNull() || a.path("type").asText("full").equals("full")) {
            return AttentionPolicy.FULL;
        }
        return new AttentionPolicy.LmInfinite(a.get("n_global").asInt(), a.get("n_local").asInt(), a.get("max_distance").asInt());
    }

    private static boolean routingEquals(JsonNode want, int[][][] got) {
        if (want.size() != got.length) {
            return false;
        }
        for (int l = 0; l < got.length; l++) {
            if (want.get(l).size() != got[l].length) {
                return false;
            }
            for (int t = 0; t < got[l].length; t++) {
                for (int k = 0; k < got[l][t].length; k++) {
                    if (want.get(l).get(t).get(k).asInt() != got[l][t][k]) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asInt();
        }
        return out;
    }

    public static int argmax(float[] a, int from, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (a[from + i] > a[from + best]) {
                best = i;
            }
        }
        return best;
    }
}
