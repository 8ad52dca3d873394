package io.tessera.service;

import io.quarkus.logging.LoggingFilter;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Filter;
import java.util.logging.LogRecord;

/**
 * Lets the first record of DJL's CUDA probe through and drops its repeats: DJL probes at each native library it
 * loads, and a CPU machine would read the same "Failed to detect GPU count" warning four times per start.
 */
@LoggingFilter(name = "once")
public final class OnceLogFilter implements Filter {
    private static final Set<String> ONCE = Set.of("ai.djl.util.cuda.CudaUtils");
    private final AtomicBoolean seen = new AtomicBoolean();

    @Override
    public boolean isLoggable(LogRecord record) {
        return !ONCE.contains(record.getLoggerName()) || seen.compareAndSet(false, true);
    }
}
