package io.tessera.cli;

import io.tessera.adapters.AdapterRef;
import io.tessera.engine.AttentionPolicy;
import io.tessera.engine.EngineOptions;
import io.tessera.engine.sampling.SamplingParams;
import io.tessera.scheduler.Generation;
import io.tessera.scheduler.GenerationListener;
import io.tessera.scheduler.GenerationRequest;
import io.tessera.scheduler.ModelHost;
import io.tessera.scheduler.Scheduler;
import io.tessera.scheduler.SchedulerObserver;
import io.tessera.scheduler.SchedulerOptions;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;

/** Prints a completion as it is generated, through the same scheduler and decoding loop as the service. */
final class Generate {
    static int run(Args a, PrintStream out) throws InterruptedException {
        if (a.positional.size() != 1) {
            throw new Args.UsageException("generate needs one PROMPT argument");
        }
        Path model = Path.of(a.require("model"));
        AdapterRef adapter = a.options.containsKey("adapter") ? adapterAt(Path.of(a.get("adapter", null))) : null;
        SamplingParams params = SamplingParams.builder()
                .maxTokens(a.getInt("max-tokens", 64))
                .temperature(a.getFloat("temperature", 0f))
                .topP(a.getFloat("top-p", 1f))
                .seed(a.options.containsKey("seed") ? a.getLong("seed", 0) : null)
                .build();
        try (ModelHost host = ModelHost.open(new EngineOptions(model, Main.device(a), 1, 0), Long.MAX_VALUE);
             Scheduler scheduler = new Scheduler(host, new SchedulerOptions(1, 256, 256, 1, 1, null, Integer.MAX_VALUE, Integer.MAX_VALUE, 1), SchedulerObserver.NONE)) {
            scheduler.start();
            int[] prompt = host.tokenizer().encode(a.positional.get(0));
            AttentionPolicy attention = AttentionPolicy.parse(a.get("attention", "full"), host.engine().config());
            GenerationListener.Completion listener = new GenerationListener.Completion() {
                @Override
                public void onToken(Generation.Token token) {
                    out.print(token.text());
                    out.flush();
                }
            };
            try (Scheduler.Place place = scheduler.reserve()) {
                place.submit(new GenerationRequest("cli", host.name(), adapter, prompt, params, attention), listener);
            }
            GenerationListener.Finished f = listener.done.get();
            out.println();
            System.err.printf("finish_reason=%s prompt_tokens=%d completion_tokens=%d%n",
                    f.reason().openAi(), f.promptTokens(), f.completionTokens());
            return 0;
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    private static AdapterRef adapterAt(Path dir) {
        return AdapterRef.fromDirectory(dir)
                .orElseThrow(() -> new Args.UsageException("--adapter " + dir + ": no adapter_config.json there"));
    }

    private Generate() {
    }
}
