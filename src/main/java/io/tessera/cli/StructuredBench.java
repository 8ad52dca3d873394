package io.tessera.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.Engine;
import io.tessera.engine.Sequence;
import io.tessera.engine.StepInput;
import io.tessera.engine.sampling.SamplingParams;
import io.tessera.engine.structured.Constraint;
import io.tessera.engine.structured.Grammar;
import io.tessera.engine.structured.SchemaCompiler;
import io.tessera.engine.structured.TokenVocabulary;
import io.tessera.engine.tokenizer.TextTokenizer;
import io.tessera.scheduler.Generation;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.IntFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Decode with every row constrained to a schema against the same batch free, sampled at temperature 1, rounds
 * interleaved and median steps compared; and the first compile of a 20-property schema.
 */
@Command(name = "structured", description = "Decode tokens/s with every row constrained vs none, "
        + "`ratio constrained/free`, and the first compile time of a 20-property schema.")
final class StructuredBench extends Bench.Run {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PROMPT = 8;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "32", description = "sequences")
    int batch;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "48", description = "decode steps per round")
    int steps;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "5", description = "interleaved rounds")
    int rounds;

    @Override
    void run(PrintStream out) {
        int b = bounded("--batch", batch, 4096);
        int n = bounded("--steps", steps, 1 << 16);
        int r = bounded("--rounds", rounds, 1 << 10);
        Bench.BenchModel m = model();
        // constraints are built from the tokenizer's vocabulary: a model directory, not a bare --config shape
        try (Engine engine = m.open(b, 0, 0);
             TextTokenizer tok = TextTokenizer.load(m.dir())) {
            out.printf("model=%s device=%s batch=%d steps=%d rounds=%d%n", m.name(), engine.device(), b, n, r);
            int vocabSize = engine.config().vocabSize();
            long t0 = System.nanoTime();
            TokenVocabulary vocab = TokenVocabulary.of(tok);
            long t1 = System.nanoTime();
            out.printf("vocabulary trie and warm-up (once per tokenizer) %8.1f ms%n", (t1 - t0) / 1e6);
            // the first schema of the process pays class loading; a server has compiled others before
            out.printf("first compile in this JVM, 20 properties         %s%n", compileMillis(vocab, twentyProperties("a"), vocabSize));
            out.printf("first compile of another 20-property schema      %s%n", compileMillis(vocab, twentyProperties("field"), vocabSize));
            Grammar grammar = vocab.grammar(SchemaCompiler.cached(twentyProperties("field")));
            IntFunction<Constraint> constrained = i -> new Constraint(grammar);
            IntFunction<Constraint> free = i -> null;
            // one untimed round each: JIT, allocator and the grammar's first masks
            decode(engine, tok, b, n, constrained);
            decode(engine, tok, b, n, free);
            long[] freeSteps = new long[r];
            long[] constrainedSteps = new long[r];
            for (int i = 0; i < r; i++) {
                freeSteps[i] = decode(engine, tok, b, n, free);
                constrainedSteps[i] = decode(engine, tok, b, n, constrained);
            }
            double freeRate = b / (Bench.median(freeSteps) / 1e9);
            double constrainedRate = b / (Bench.median(constrainedSteps) / 1e9);
            out.printf("decode free         %8.1f tokens/s%n", freeRate);
            out.printf("decode constrained  %8.1f tokens/s%n", constrainedRate);
            out.printf("ratio constrained/free = %.3f%n", constrainedRate / freeRate);
        }
    }

    /**
     * B rows decoded N steps at temperature 1; the median step in ns, sampling included. A constrained row whose
     * value closes starts a new one on the same sequence, so every step keeps B constrained rows.
     */
    private static long decode(Engine engine, TextTokenizer tok, int batch, int steps, IntFunction<Constraint> constraint) {
        Random rnd = new Random(7);
        int vocab = engine.config().vocabSize();
        SamplingParams params = SamplingParams.builder().temperature(1f).seed(7L).maxTokens(1 << 20).ignoreEos(true).build();
        List<Sequence> seqs = new ArrayList<>();
        List<Generation> gens = new ArrayList<>();
        List<StepInput> in = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            int[] prompt = rnd.ints(PROMPT, 4, tok.vocabSize()).toArray();
            Sequence s = engine.open(AttentionPolicy.FULL, null);
            seqs.add(s);
            gens.add(new Generation(prompt, params, tok, Set.of(), vocab, constraint.apply(i)));
            in.add(StepInput.next(s, prompt));
        }
        long[] times = new long[steps];
        List<float[]> logits = engine.step(in);
        for (int step = 0; step < steps; step++) {
            long t = System.nanoTime();
            in = new ArrayList<>(batch);
            for (int i = 0; i < batch; i++) {
                Generation.Token token = gens.get(i).next(logits.get(i));
                if (token.finish() != null) {
                    gens.set(i, new Generation(new int[] {token.id()}, params, tok, Set.of(), vocab, constraint.apply(i)));
                }
                in.add(StepInput.next(seqs.get(i), token.id()));
            }
            logits = engine.step(in);
            times[step] = System.nanoTime() - t;
        }
        seqs.forEach(engine::release);
        return (long) Bench.median(times);
    }

    /** Compiles a schema not seen before and computes its first mask, as the first request with it does. */
    private static String compileMillis(TokenVocabulary vocab, JsonNode schema, int vocabSize) {
        long t0 = System.nanoTime();
        Grammar grammar = vocab.grammar(SchemaCompiler.cached(schema));
        long t1 = System.nanoTime();
        new Constraint(grammar).mask(new float[vocabSize], vocabSize, Set.of(), new float[vocabSize]);
        long t2 = System.nanoTime();
        return String.format("%8.1f ms  (schema and grammar %.1f ms, first mask %.1f ms)", (t2 - t0) / 1e6,
                (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    }

    /** Twenty properties of every kind: strings with bounds and a pattern, bounded numbers, enums, arrays, nesting. */
    static JsonNode twentyProperties(String prefix) {
        ObjectNode props = JSON.createObjectNode();
        for (int i = 0; i < 20; i++) {
            ObjectNode p = props.putObject(prefix + "_" + i);
            switch (i % 5) {
                case 0 -> p.put("type", "string").put("maxLength", 12);
                case 1 -> p.put("type", "integer").put("minimum", 0).put("maximum", 1000);
                case 2 -> p.putArray("enum").add("low").add("medium").add("high");
                case 3 -> p.put("type", "array").put("maxItems", 3).putObject("items").put("type", "boolean");
                default -> p.put("type", "string").put("pattern", "^[a-z]{2,6}-[0-9]{1,3}$");
            }
        }
        ObjectNode schema = JSON.createObjectNode().put("type", "object");
        schema.set("properties", props);
        var required = schema.putArray("required");
        props.fieldNames().forEachRemaining(required::add);
        schema.put("additionalProperties", false);
        return schema;
    }
}
