package io.tessera.engine.structured;

import static io.tessera.TestSupport.SEED_ADAPTERS;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import io.tessera.TestSupport;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.Engine;
import io.tessera.engine.ResidentAdapter;
import io.tessera.engine.Sequence;
import io.tessera.engine.StepInput;
import io.tessera.engine.adapter.AdapterLoader;
import io.tessera.engine.sampling.SamplingParams;
import io.tessera.engine.tokenizer.TextTokenizer;
import io.tessera.scheduler.FinishReason;
import io.tessera.scheduler.Generation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every schema under testdata/structured/schemas x every adapter kind x several seeds, sampled at temperature 1 on
 * demo-llama (base, LoRA, DoRA, prompt tuning) and demo-moge (base, an expert group), all rows of a seed sharing each
 * engine step:
 * every output must parse and validate (networknt's validator), ending by itself before max_tokens.
 */
class StructuredSamplingTest {
    private static final Path SCHEMAS = Path.of("testdata/structured/schemas");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long[] SEEDS = {1, 2, 3};
    private static final int MAX_TOKENS = 200;

    record Case(String name, JsonNode schema) {
    }

    static List<Case> cases() throws IOException {
        try (Stream<Path> files = Files.list(SCHEMAS)) {
            List<Case> cases = new ArrayList<>();
            for (Path f : files.sorted().toList()) {
                cases.add(new Case(f.getFileName().toString(), JSON.readTree(f.toFile())));
            }
            return cases;
        }
    }

    /** One constrained row: its case, seed and adapter, and what it generated. */
    static final class Row {
        final Case c;
        final long seed;
        final ResidentAdapter adapter;
        Sequence seq;
        Generation generation;
        final StringBuilder text = new StringBuilder();
        FinishReason finish;
        int next;

        Row(Case c, long seed, ResidentAdapter adapter) {
            this.c = c;
            this.seed = seed;
            this.adapter = adapter;
        }
    }

    @Test
    void atLeastThirtySchemas() throws IOException {
        assertThat(cases()).hasSizeGreaterThanOrEqualTo(30);
    }

    @Test
    void demoLlamaBaseLoraDoraAndPromptAlwaysValid() throws IOException {
        sampleAll("demo-llama", "research-lora", "research-dora", "legal-prompt");
    }

    @Test
    void demoMogeBaseAndExpertGroupAlwaysValid() throws IOException {
        sampleAll("demo-moge", "legal-groups");
    }

    private static void sampleAll(String model, String... adapterNames) throws IOException {
        List<Case> cases = cases();
        Path dir = Path.of("models", model);
        int rowsPerStep = cases.size() * (adapterNames.length + 1);
        try (Engine engine = TestSupport.openCpu(dir, rowsPerStep, 0); TextTokenizer tok = TextTokenizer.load(dir)) {
            AdapterLoader loader = new AdapterLoader(engine.model());
            List<ResidentAdapter> adapters = new ArrayList<>();
            adapters.add(null);
            for (String name : adapterNames) {
                adapters.add(engine.adapters().install(adapters.size(), loader.load(SEED_ADAPTERS.resolve(model).resolve(name)), name));
            }
            TokenVocabulary vocab = TokenVocabulary.of(tok);
            List<Row> all = new ArrayList<>();
            for (long seed : SEEDS) {
                List<Row> rows = new ArrayList<>();
                for (Case c : cases) {
                    for (ResidentAdapter a : adapters) {
                        rows.add(new Row(c, seed, a));
                    }
                }
                run(engine, tok, vocab, rows);
                all.addAll(rows);
            }
            JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
            List<String> failures = new ArrayList<>();
            for (Row r : all) {
                String what = r.c.name + " seed " + r.seed + " adapter " + (r.adapter == null ? "base" : r.adapter) + ": " + r.text;
                if (r.finish != FinishReason.STOP) {
                    failures.add(what + " (finish " + r.finish + ")");
                    continue;
                }
                JsonNode value;
                try {
                    value = JSON.readTree(r.text.toString());
                } catch (IOException e) {
                    failures.add(what + " (does not parse: " + e.getMessage() + ")");
                    continue;
                }
                JsonSchema schema = factory.getSchema(r.c.schema);
                var errors = schema.validate(value);
                if (!errors.isEmpty()) {
                    failures.add(what + " " + errors);
                }
            }
            assertThat(failures).as("invalid outputs of %d", all.size()).isEmpty();
        }
    }

    /** Decodes every row to its end, all rows in each engine step. */
    private static void run(Engine engine, TextTokenizer tok, TokenVocabulary vocab, List<Row> rows) {
        int vocabSize = engine.config().vocabSize();
        List<StepInput> in = new ArrayList<>();
        for (Row r : rows) {
            int[] prompt = tok.encode("Answer in JSON: " + r.c.name);
            SamplingParams params = SamplingParams.builder().temperature(1f).seed(r.seed).maxTokens(MAX_TOKENS).build();
            r.seq = engine.open(AttentionPolicy.FULL, r.adapter);
            r.generation = new Generation(prompt, params, tok, Set.of(0), vocabSize,
                    new Constraint(vocab.grammar(SchemaCompiler.cached(r.c.schema))));
            in.add(new StepInput(r.seq, prompt, false));
        }
        List<Row> live = new ArrayList<>(rows);
        while (!live.isEmpty()) {
            List<float[]> logits = engine.step(in);
            List<Row> still = new ArrayList<>();
            in = new ArrayList<>();
            for (int i = 0; i < live.size(); i++) {
                Row r = live.get(i);
                Generation.Token t = r.generation.next(logits.get(i));
                r.text.append(t.text());
                if (t.finish() != null) {
                    r.finish = t.finish();
                    engine.release(r.seq);
                } else {
                    still.add(r);
                    in.add(StepInput.next(r.seq, t.id()));
                }
            }
            live = still;
        }
    }
}
