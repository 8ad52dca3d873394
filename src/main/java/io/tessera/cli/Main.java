package io.tessera.cli;

import io.tessera.engine.safetensors.CheckpointException;
import io.tessera.engine.EngineOptions;
import io.tessera.scheduler.InvalidRequestException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** bin/tessera: the engine's command line (the service is started by bin/tessera serve). */
public final class Main {
    private static final String USAGE = """
            usage: tessera <command> [options]
              verify-fixtures DIR [--batch] [--device cpu|gpu|auto]
              generate --model DIR [--adapter DIR] [--max-tokens 64] [--temperature 0] [--top-p 1] [--seed S]
                       [--attention full|lm-infinite|lm-infinite:G,L,D] PROMPT
              perplexity --model DIR --windows FILE [--adapter DIR] [--attention ...] [--chunk N]
              bench decode --model DIR --batch B --steps N
              bench adapters --model DIR --batch 32 --adapters 16 --rank 16 --steps N [--rounds 5]
              bench prefix --model DIR [--prompt 200] [--rounds 10]
              bench long-context --model DIR --contexts 1024,8192,32768
              bench soak --model DIR --minutes 3 [--batch 32] [--adapters 16] [--rank 16] [--warmup-seconds 30]
              bench serve [--url http://127.0.0.1:8080] [--concurrency 64] [--requests 256] [--max-tokens 64]
                          [--warmup 2C] [--model NAME] [--model-dir models/demo-llama] [--engine-threads N]
              serve
            """;

    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    static int run(String[] argv) {
        if (argv.length == 0) {
            System.err.print(USAGE);
            return 2;
        }
        try {
            switch (argv[0]) {
                case "verify-fixtures" -> {
                    Args a = Args.parse(argv, 1, Set.of("batch"));
                    if (a.positional.size() != 1) {
                        throw new Args.UsageException("verify-fixtures needs DIR");
                    }
                    List<VerifyFixtures.Result> r = VerifyFixtures.run(Path.of(a.positional.get(0)), a.flag("batch"), device(a), System.out);
                    return r.stream().allMatch(VerifyFixtures.Result::pass) ? 0 : 1;
                }
                case "generate" -> {
                    return Generate.run(Args.parse(argv, 1, Set.of()), System.out);
                }
                case "perplexity" -> {
                    return Perplexity.run(Args.parse(argv, 1, Set.of()), System.out);
                }
                case "bench" -> {
                    return Bench.run(argv, System.out);
                }
                default -> throw new Args.UsageException("unknown command " + argv[0]);
            }
        } catch (Args.UsageException e) {
            System.err.println("tessera: " + e.getMessage());
            System.err.print(USAGE);
            return 2;
        } catch (CheckpointException | InvalidRequestException | IllegalArgumentException | IllegalStateException e) {
            System.err.println("tessera: " + e.getMessage());
            return 1;
        } catch (java.nio.file.NoSuchFileException e) {
            System.err.println("tessera: " + e.getMessage() + ": file not found");
            return 1;
        } catch (java.io.IOException e) {
            System.err.println("tessera: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 130;
        }
    }

    static EngineOptions.Device device(Args a) {
        return EngineOptions.Device.valueOf(a.get("device", "auto").toUpperCase(Locale.ROOT));
    }

    private Main() {
    }
}
