package io.tessera.scheduler;

/**
 * Where a request is in its life. Each move is checked: a request ends once, and a step never touches one that
 * has ended.
 *
 * <pre>
 * WAITING ──admitted──▶ ADMITTED ──sequence opened──▶ RUNNING ──finish──▶ FINISHED
 *    └────────────────────────┴──────────────────────────┴──cancel, timeout, error──▶ ABORTED
 * </pre>
 */
enum JobState {
    /** In the fair queue, holding a queue place. */
    WAITING,
    /** Counted against the running limits; its adapter is loading or its sequence opening. */
    ADMITTED,
    /** Holds a KV slot and takes part in steps. */
    RUNNING,
    /** Ended with a finish reason (stop or length). */
    FINISHED,
    /** Ended by a cancel, a timeout or an error. */
    ABORTED;

    boolean canBecome(JobState next) {
        return switch (this) {
            case WAITING -> next == ADMITTED || next == ABORTED;
            case ADMITTED -> next == RUNNING || next == ABORTED;
            case RUNNING -> next == FINISHED || next == ABORTED;
            case FINISHED, ABORTED -> false;
        };
    }

    boolean ended() {
        return this == FINISHED || this == ABORTED;
    }
}
