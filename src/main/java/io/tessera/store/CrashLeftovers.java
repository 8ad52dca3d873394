package io.tessera.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * What a run killed with -9 leaves on the embedded Postgres's data directory, cleared before the next start: the
 * postgres it started (pg_ctl detaches it, so it outlives the JVM and still holds the directory), or, once that is
 * gone too, its {@code postmaster.pid}, which Postgres itself refuses when the PID was taken by another process.
 * A directory whose zonky lock ({@code epg-lock}) a live process holds is in use and left alone.
 */
final class CrashLeftovers {
    private static final Logger LOG = Logger.getLogger(CrashLeftovers.class);
    private static final String PID_FILE = "postmaster.pid";
    private static final String ZONKY_LOCK = "epg-lock";
    /** A smart shutdown waits for sessions; those of a dead JVM end at once, a checkpoint may take a while. */
    private static final long STOP_WAIT_S = 30;

    private CrashLeftovers() {
    }

    static void clear(Path data) throws IOException {
        Path pidFile = data.resolve(PID_FILE);
        if (!Files.exists(pidFile)) {
            return;
        }
        try (FileChannel ch = FileChannel.open(data.resolve(ZONKY_LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = ch.tryLock()) {
            if (lock == null) {
                return;   // a live run owns the directory: zonky refuses to start with its own message
            }
            Optional<ProcessHandle> holder = pid(pidFile).flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive);
            Holder what = holder.map(h -> holder(h, data)).orElse(Holder.OTHER);
            switch (what) {
                case ORPHAN -> stop(holder.get(), data);
                case OTHER -> LOG.warnf("removing %s left by a killed run (PID %s is not its postgres)", pidFile,
                        holder.map(h -> Long.toString(h.pid())).orElse("gone"));
                case UNKNOWN -> {
                    return;   // cannot tell what the process is: Postgres decides
                }
            }
            Files.deleteIfExists(pidFile);
        }
    }

    /** What holds the PID a postmaster.pid names. */
    private enum Holder { ORPHAN, OTHER, UNKNOWN }

    /** The postmaster's PID: the file's first line; empty when the file is cut short or garbled. */
    private static Optional<Long> pid(Path pidFile) throws IOException {
        List<String> lines = Files.readAllLines(pidFile);
        try {
            return lines.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(lines.get(0).trim()));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * A postgres whose working directory (the postmaster changes to its data directory) is this one is the orphan;
     * any other process took the PID since the crash.
     */
    private static Holder holder(ProcessHandle p, Path data) {
        Optional<String> command = p.info().command();
        if (command.isEmpty()) {
            return Holder.UNKNOWN;
        }
        if (!Path.of(command.get()).getFileName().toString().equals("postgres")) {
            return Holder.OTHER;
        }
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "cwd")).equals(data.toRealPath())
                    ? Holder.ORPHAN : Holder.OTHER;
        } catch (IOException | UnsupportedOperationException e) {
            return p.info().arguments().map(a -> List.of(a).contains(data.toAbsolutePath().toString()) ? Holder.ORPHAN : Holder.UNKNOWN)
                    .orElse(Holder.UNKNOWN);
        }
    }

    /** Stops the orphan: smart shutdown (SIGTERM), then SIGKILL for it and its backends if it hangs. */
    private static void stop(ProcessHandle postmaster, Path data) throws IOException {
        LOG.warnf("stopping postgres PID %d left running on %s by a killed run", postmaster.pid(), data);
        List<ProcessHandle> backends = postmaster.descendants().toList();
        postmaster.destroy();
        if (awaitExit(postmaster)) {
            return;
        }
        LOG.warnf("postgres PID %d did not stop within %d s; killing it", postmaster.pid(), STOP_WAIT_S);
        postmaster.destroyForcibly();
        backends.forEach(ProcessHandle::destroyForcibly);
        // its shared memory stays in use, and the next postgres refuses it, until every backend is gone
        if (!awaitExit(postmaster) || !backends.stream().allMatch(CrashLeftovers::awaitExit)) {
            throw new IOException("postgres PID " + postmaster.pid() + " left running on " + data + " does not stop");
        }
    }

    private static boolean awaitExit(ProcessHandle p) {
        try {
            p.onExit().get(STOP_WAIT_S, TimeUnit.SECONDS);
            return true;
        } catch (TimeoutException | ExecutionException e) {
            return !p.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
