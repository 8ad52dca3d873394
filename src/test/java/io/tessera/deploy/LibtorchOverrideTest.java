package io.tessera.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * The GPU image's way of loading libtorch, exercised on the CPU: the engine runs with the class path `-Pgpu`
 * gives (no pytorch-native-cpu jar) and DJL pointed at a libtorch directory by PYTORCH_LIBRARY_PATH,
 * PYTORCH_VERSION and PYTORCH_FLAVOR, as src/main/docker/Dockerfile.gpu sets them. The directory here holds the
 * CPU build of libtorch 2.7.1 (unpacked from the native jar) and the flavour is `cpu`; in the GPU image it is
 * the official 2.7.1+cu128 distribution and `cu128`, whose JNI library the same pytorch-jni jar carries
 * (ContainerImagesTest). Runs every golden fixture case (bin/tessera verify-fixtures) and checks that DJL
 * extracted no libtorch of its own, only the JNI library of the named flavour.
 */
class LibtorchOverrideTest {
    private final Path root = DeployFiles.root();

    @Test
    void engineRunsOnTheLibtorchThatPytorchLibraryPathNames() throws Exception {
        List<Path> classpath = new ArrayList<>();
        classpath.add(root.resolve("target/classes"));
        Path nativeJar = null;
        for (String entry : Files.readString(root.resolve("target/classpath.txt")).trim().split(":")) {
            if (entry.contains("pytorch-native-cpu")) {
                nativeJar = Path.of(entry);
            } else {
                classpath.add(Path.of(entry));
            }
        }
        assertThat(nativeJar).as("pytorch-native-cpu in target/classpath.txt (a default build)").isNotNull();
        Path libtorch = unpackLibtorch(nativeJar, root.resolve("target/libtorch-override/lib"));
        String version = ContainerImagesTest.jniVersion().split("-")[0];

        // a fresh DJL cache: whatever lands in it, this run put there
        Path cache = root.resolve("target/djl-cache-override");
        if (Files.exists(cache)) {
            try (Stream<Path> s = Files.walk(cache)) {
                for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(f);
                }
            }
        }
        Files.createDirectories(cache);
        Path log = root.resolve("target/djl-cache-override.log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-DDJL_CACHE_DIR=" + cache, "-Xmx1g",
                "-cp", classpath.stream().map(Path::toString).collect(Collectors.joining(":")),
                "io.tessera.cli.Main", "verify-fixtures", "testdata/fixtures")
                .directory(root.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("DJL_CACHE_DIR", cache.toString());
        pb.environment().put("PYTORCH_LIBRARY_PATH", libtorch.toString());
        pb.environment().put("PYTORCH_VERSION", version);
        pb.environment().put("PYTORCH_FLAVOR", "cpu");
        Process p = pb.start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).containsPattern("(?m)^\\d+ passed, 0 failed$");

        List<String> cached;
        try (Stream<Path> s = Files.walk(cache)) {
            cached = s.filter(Files::isRegularFile).map(f -> cache.relativize(f).toString()).sorted().toList();
        }
        assertThat(cached).as("DJL loaded libtorch from PYTORCH_LIBRARY_PATH, extracting none")
                .noneMatch(f -> f.endsWith("libtorch_cpu.so") || f.endsWith("libtorch.so"));
        assertThat(cached).as("the JNI library of the named version and flavour")
                .anyMatch(f -> f.startsWith("pytorch/" + version + "-cpu-linux-x86_64/") && f.endsWith("libdjl_torch.so"));
    }

    /** The shared libraries of the native jar, unpacked once into dir (as the GPU image unpacks libtorch). */
    private static Path unpackLibtorch(Path jar, Path dir) throws IOException {
        Files.createDirectories(dir);
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (ZipEntry e : zip.stream().toList()) {
                String name = Path.of(e.getName()).getFileName().toString();
                if (e.isDirectory() || !(name.endsWith(".so") || name.matches(".*\\.so\\.\\d+"))) {
                    continue;
                }
                Path target = dir.resolve(name);
                if (Files.exists(target) && Files.size(target) == e.getSize()) {
                    continue;
                }
                try (InputStream in = zip.getInputStream(e)) {
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        assertThat(Arrays.asList(dir.toFile().list())).contains("libtorch.so", "libc10.so");
        return dir;
    }
}
