package io.tessera.cli;

import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.EngineOptions;
import io.tessera.engine.sampling.SamplingParams;
import io.tessera.runtime.AdapterRef;
import io.tessera.runtime.ModelHost;
import io.tessera.scheduler.Generation;
import io.tessera.scheduler.GenerationListener;
import io.tessera.scheduler.GenerationRequest;
import io.tessera.scheduler.Scheduler;
import io.tessera.scheduler.SchedulerObserver;
import io.tessera.scheduler.SchedulerOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Prints a completion as it is generated, through the same scheduler and decoding loop as the service. */
@Command(name = "generate", description = "Prints the completion of PROMPT (stderr: finish reason and token counts).")
final class Generate implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", required = true, description = "the base model's directory")
    Path model;

    @Option(names = "--adapter", paramLabel = "DIR", description = "a PEFT adapter directory")
    Path adapter;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "64", description = "tokens to generate")
    int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0", description = "0 is greedy")
    float temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "nucleus sampling mass")
    float topP;

    @Option(names = "--seed", paramLabel = "S", description = "sampling seed (any long)")
    Long seed;

    @Option(names = "--attention", paramLabel = "full|lm-infinite[:G,L,D]", defaultValue = "full",
            description = "lm-infinite without numbers takes the model's defaults")
    String attention;

    @Parameters(paramLabel = "PROMPT", description = "the prompt text")
    String promptText;

    @Mixin
    EngineArgs engine;

    @Override
    public Integer call() throws InterruptedException {
        AdapterRef adapterRef = adapter == null ? null : adapterAt(adapter);
        SamplingParams params = SamplingParams.builder()
                .maxTokens(Main.inRange(spec, "--max-tokens", maxTokens, 1, 1 << 20))
                .temperature(temperature)
                .topP(topP)
                .seed(seed)
                .build();
        try (ModelHost host = ModelHost.open(new EngineOptions(model, engine.prepare(1), 1, 0), Long.MAX_VALUE);
             Scheduler scheduler = new Scheduler(host, new SchedulerOptions(1, 256, 256, 1, 1, null, Integer.MAX_VALUE, Integer.MAX_VALUE, 1), SchedulerObserver.NONE)) {
            scheduler.start();
            int[] prompt = host.tokenizer().encode(promptText);
            AttentionPolicy policy = AttentionPolicy.parse(attention, host.engine().config());
            GenerationListener.Completion listener = new GenerationListener.Completion() {
                @Override
                public void onToken(Generation.Token token) {
                    System.out.print(token.text());
                    System.out.flush();
                }
            };
            try (Scheduler.Place place = scheduler.reserve()) {
                place.submit(new GenerationRequest("cli", host.name(), adapterRef, prompt, params, policy), listener);
            }
            GenerationListener.Finished f = listener.done.get();
            System.out.println();
            System.err.printf("finish_reason=%s prompt_tokens=%d completion_tokens=%d%n",
                    f.reason().openAi(), f.promptTokens(), f.completionTokens());
            return 0;
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    private AdapterRef adapterAt(Path dir) {
        return AdapterRef.fromDirectory(dir).orElseThrow(
                () -> new ParameterException(spec.commandLine(), "--adapter " + dir + ": no adapter_config.json there"));
    }
}
