package io.tessera.cli;

import io.tessera.engine.EngineOptions;
import io.tessera.runtime.EngineThreads;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The options of every command that opens an engine: its device and its threads. */
final class EngineArgs {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--device", paramLabel = "cpu|gpu|auto", defaultValue = "auto",
            description = "where the engine runs (gpu: weights in fp16)")
    EngineOptions.Device device;

    // the service's setting tessera.engine.threads, read from its environment variable when the option is absent
    @Option(names = "--engine-threads", paramLabel = "N", defaultValue = "${env:TESSERA_ENGINE_THREADS}",
            description = "libtorch intra-op threads (default: $TESSERA_ENGINE_THREADS, else 1; bench serve: the cores but one)")
    Integer threads;

    /**
     * The device, after setting the engine's threads for this process: the option, else {@code defaultThreads}
     * (one for the engine commands: on small CPU machines it beats two for models of the demo size).
     */
    EngineOptions.Device prepare(int defaultThreads) {
        EngineThreads.use(threads == null ? defaultThreads : Main.inRange(spec, "--engine-threads", threads, 1, 1024));
        return device;
    }
}
