package io.tessera.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real, tiny filesystem (tmpfs) mounted on a directory, to make writes fail for lack of space. Needs root (or
 * CAP_SYS_ADMIN): where mounting is not permitted the calling test is skipped, not failed.
 */
public final class SmallDisk implements AutoCloseable {
    private final Path dir;

    private SmallDisk(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of {@code bytes} (a multiple of the page size) on {@code dir}, created if absent. */
    public static SmallDisk mount(Path dir, long bytes) throws IOException {
        Files.createDirectories(dir);
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=" + bytes, "tmpfs", dir.toString()),
                "mounting a tmpfs is not permitted here");
        return new SmallDisk(dir);
    }

    @Override
    public void close() throws IOException {
        if (!run("umount", dir.toString())) {
            throw new IOException("could not unmount " + dir);
        }
    }

    private static boolean run(String... command) throws IOException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
