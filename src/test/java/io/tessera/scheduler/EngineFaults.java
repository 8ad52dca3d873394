package io.tessera.scheduler;

/** For service tests in other packages: plays an engine that fails every step, the probe step included. */
public final class EngineFaults {
    private EngineFaults() {
    }

    /** From now on the scheduler's probe step fails (a token id past the vocabulary); {@link #heal} undoes it. */
    public static void breakProbe(Scheduler s) {
        s.probeToken = s.host().engine().config().vocabSize() + 1;
    }

    public static void heal(Scheduler s) {
        s.probeToken = 0;
    }
}
