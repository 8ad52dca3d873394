package io.tessera.cli;

import java.io.PrintStream;

/** Placeholder replaced once the sampler lands. */
final class Generate {
    static int run(Args a, PrintStream out) {
        throw new Args.UsageException("generate: not wired yet");
    }

    private Generate() {
    }
}
