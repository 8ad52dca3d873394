package io.tessera.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.EngineOptions;
import io.tessera.engine.sampling.SamplingParams;
import io.tessera.engine.structured.Schema;
import io.tessera.engine.structured.SchemaCompiler;
import io.tessera.runtime.ModelHost;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Constrained rows in the scheduler on demo-llama: they share steps with free rows, which get exactly the text they
 * get alone; tokens stream as for free text; max_tokens before the value closes is finish_reason length.
 */
class StructuredSchedulerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ROWS = 8;

    static ModelHost host;
    static Scheduler scheduler;

    @BeforeAll
    static void start() {
        host = ModelHost.open(new EngineOptions(Path.of("models/demo-llama"), EngineOptions.Device.CPU, ROWS, 0), 1L << 30,
                Executors.newSingleThreadExecutor());
        scheduler = new Scheduler(host, new SchedulerOptions(ROWS, 256, 32, 64, 1, null, 1 << 20, 1000, ROWS),
                SchedulerObserver.NONE, System::nanoTime);
        scheduler.start();
    }

    @AfterAll
    static void stop() {
        scheduler.close();
        host.close();
    }

    private static Schema schema(String json) throws Exception {
        return SchemaCompiler.cached(JSON.readTree(json));
    }

    private static GenerationRequest request(String prompt, long seed, int maxTokens, Schema output) {
        SamplingParams params = SamplingParams.builder().temperature(1f).seed(seed).maxTokens(maxTokens).build();
        return new GenerationRequest("t", "demo-llama", null, host.tokenizer().encode(prompt), params,
                AttentionPolicy.FULL, output);
    }

    private static SchedulerTest.Collected submit(GenerationRequest r) {
        SchedulerTest.Collected c = new SchedulerTest.Collected();
        try (Scheduler.Place place = scheduler.reserve()) {
            place.submit(r, c);
        }
        return c;
    }

    @Test
    void freeRowsInAMixedBatchGetTheTextTheyGetAlone() throws Exception {
        Schema person = schema("{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":10},"
                + "\"age\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":120}},\"required\":[\"name\",\"age\"],"
                + "\"additionalProperties\":false}");
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            requests.add(request("The model " + i + " says", 100 + i, 40, i % 2 == 0 ? null : i == 3 ? Schema.jsonObject() : person));
        }
        List<SchedulerTest.Collected> mixed = new ArrayList<>();
        for (GenerationRequest r : requests) {
            mixed.add(submit(r));
        }
        List<GenerationListener.Finished> finished = new ArrayList<>();
        for (SchedulerTest.Collected c : mixed) {
            finished.add(c.await());
        }
        for (int i = 0; i < ROWS; i++) {
            GenerationRequest r = requests.get(i);
            String text = mixed.get(i).text.toString();
            if (r.output() == null) {
                SchedulerTest.Collected alone = submit(r);
                alone.await();
                assertThat(text).as("free row %d", i).isEqualTo(alone.text.toString());
            } else if (finished.get(i).reason() == FinishReason.STOP) {
                JsonNode value = JSON.readTree(text);
                assertThat(value.isObject()).as(text).isTrue();
                if (r.output() == person) {
                    assertThat(value.get("name").isTextual()).as(text).isTrue();
                    assertThat(value.get("age").asInt()).as(text).isBetween(0, 120);
                }
            } else {
                assertThat(finished.get(i).reason()).isEqualTo(FinishReason.LENGTH);
                assertThat(r.output()).as("only json_object's free strings may run out").isSameAs(Schema.jsonObject());
            }
        }
    }

    @Test
    void maxTokensBeforeTheValueClosesIsLength() throws Exception {
        Schema list = schema("{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":20}");
        SchedulerTest.Collected c = submit(request("Numbers:", 1, 5, list));
        GenerationListener.Finished f = c.await();
        assertThat(f.reason()).isEqualTo(FinishReason.LENGTH);
        assertThat(f.completionTokens()).isEqualTo(5);
        assertThat(c.text.toString().strip()).startsWith("[");
    }

    @Test
    void aClosedValueEndsWithoutSpendingAnEndToken() throws Exception {
        Schema yes = schema("{\"const\":\"yes\"}");
        SchedulerTest.Collected c = submit(request("Say yes:", 4, 50, yes));
        GenerationListener.Finished f = c.await();
        assertThat(f.reason()).isEqualTo(FinishReason.STOP);
        assertThat(c.text.toString().strip()).isEqualTo("\"yes\"");
        assertThat(c.ids).hasSize(f.completionTokens());
    }
}
