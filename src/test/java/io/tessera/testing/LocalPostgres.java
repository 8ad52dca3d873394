package io.tessera.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Postgres 15 server of a test's own (so the test can stop and start it), run as the postgres user on loopback
 * from /usr/lib/postgresql/15/bin, the same way .ci/services starts the shared one.
 */
public final class LocalPostgres implements AutoCloseable {
    private static final Path BIN = Path.of(System.getenv().getOrDefault("PG_BIN", "/usr/lib/postgresql/15/bin"));

    private final Path dir;
    private final int port;

    private LocalPostgres(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    public static LocalPostgres start() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("tessera-pg-");
        run("chmod", "755", dir.toString());
        run("chown", "postgres", dir.toString());
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        LocalPostgres pg = new LocalPostgres(dir, port);
        pg.asPostgres(BIN.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", "tessera",
                "--auth=trust", "-E", "UTF8");
        pg.resume();
        pg.asPostgres(BIN.resolve("createdb").toString(), "-h", "127.0.0.1", "-p", String.valueOf(port), "-U", "tessera", "tessera");
        return pg;
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/tessera";
    }

    /** Stops the server (fast: open connections are cut, as in a crash of the database host). */
    public void stop() throws IOException, InterruptedException {
        asPostgres(BIN.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "fast", "-w", "stop");
    }

    public void resume() throws IOException, InterruptedException {
        asPostgres(BIN.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-l", dir.resolve("log").toString(),
                "-w", "-o", "-h 127.0.0.1 -p " + port + " -k " + dir + " -c fsync=off", "start");
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            stop();
        } finally {
            run("rm", "-rf", dir.toString());
        }
    }

    private void asPostgres(String... cmd) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        full.addAll(List.of(cmd));
        run(full.toArray(String[]::new));
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
