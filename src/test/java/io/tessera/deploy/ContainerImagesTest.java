package io.tessera.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The image definitions agree with the build: the GPU image names the libtorch version and flavour the
 * pytorch-jni jar on the class path carries JNI for, the `gpu` Maven profile leaves the CPU native jar out, and
 * both images start the fast-jar the way bin/tessera does (DJL offline, its cache in a writable volume).
 */
class ContainerImagesTest {
    private final Path root = DeployFiles.root();

    @Test
    void gpuImageBringsTheLibtorchThePytorchJniJarIsBuiltFor() throws Exception {
        String dockerfile = Files.readString(root.resolve("src/main/docker/Dockerfile.gpu"));
        Map<String, String> env = envInstructions(dockerfile);
        String jniVersion = jniVersion();
        assertThat(jniVersion).as("jnilib/pytorch.properties of pytorch-jni").startsWith(env.get("PYTORCH_VERSION") + "-");
        assertThat(env.get("PYTORCH_FLAVOR")).isEqualTo("cu128");
        assertThat(getClass().getResource("/jnilib/linux-x86_64/" + env.get("PYTORCH_FLAVOR") + "/libdjl_torch.so"))
                .as("the pytorch-jni jar carries the " + env.get("PYTORCH_FLAVOR") + " JNI library").isNotNull();
        assertThat(dockerfile).as("the libtorch archive matches version and flavour")
                .contains("libtorch-cxx11-abi-shared-with-deps-" + env.get("PYTORCH_VERSION") + "%2B" + env.get("PYTORCH_FLAVOR") + ".zip");
        assertThat(dockerfile).containsPattern("(?m)^ARG CUDA_IMAGE=nvidia/cuda:12\\.8\\.");
        assertThat(env.get("PYTORCH_LIBRARY_PATH")).isEqualTo("/opt/libtorch/lib");
        assertThat(dockerfile).contains("COPY --from=libtorch /opt/libtorch/lib " + env.get("PYTORCH_LIBRARY_PATH"));
        assertThat(env.get("LD_LIBRARY_PATH")).startsWith(env.get("PYTORCH_LIBRARY_PATH"));
    }

    @Test
    void gpuProfileLeavesTheCpuNativeJarOut() throws Exception {
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(root.resolve("pom.xml").toFile());
        String scopeProperty = null;
        NodeList deps = pom.getElementsByTagName("dependency");
        for (int i = 0; i < deps.getLength(); i++) {
            Element d = (Element) deps.item(i);
            if (text(d, "artifactId").equals("pytorch-native-cpu")) {
                scopeProperty = text(d, "scope");
            }
            if (text(d, "artifactId").equals("pytorch-jni")) {
                assertThat(text(d, "scope")).as("pytorch-jni stays in every build").isIn("", "compile");
            }
        }
        assertThat(scopeProperty).isEqualTo("${pytorch.native.cpu.scope}");
        NodeList profiles = pom.getElementsByTagName("profile");
        String gpuScope = null;
        for (int i = 0; i < profiles.getLength(); i++) {
            Element p = (Element) profiles.item(i);
            if (text(p, "id").equals("gpu")) {
                gpuScope = text(p, "pytorch.native.cpu.scope");
            }
        }
        // provided: on the compile class path, out of target/quarkus-app/lib and target/classpath.txt
        assertThat(gpuScope).as("the gpu profile's scope for pytorch-native-cpu").isEqualTo("provided");
    }

    @Test
    void bothImagesRunTheFastJarWithDjlOffline() throws Exception {
        String script = Files.readString(root.resolve("src/main/docker/run-java.sh"));
        assertThat(script).contains("-Dai.djl.offline=true", "-DDJL_CACHE_DIR=\"${DJL_CACHE_DIR}\"",
                "exec java", "-jar \"${APP_DIR:-/deployments/quarkus-app}/quarkus-run.jar\"");
        for (String name : List.of("Dockerfile.jvm", "Dockerfile.gpu")) {
            String dockerfile = Files.readString(root.resolve("src/main/docker").resolve(name));
            assertThat(dockerfile).as(name).contains("COPY --chown=185:0 target/quarkus-app/lib/ /deployments/quarkus-app/lib/",
                    "COPY --chown=185:0 target/quarkus-app/quarkus/ /deployments/quarkus-app/quarkus/",
                    "ENTRYPOINT [\"/deployments/run-java.sh\"]", "USER 185", "EXPOSE 8080");
            assertThat(envInstructions(dockerfile).get("DJL_CACHE_DIR")).as(name).isEqualTo("/deployments/djl-cache");
        }
        assertThat(Files.readString(root.resolve("src/main/docker/Dockerfile.jvm")))
                .containsPattern("(?m)^FROM eclipse-temurin:17-jre");
        // the JVM flags bin/tessera serve uses (its jvm=(...) array), each in the images' entry point too
        String launcher = Files.readString(root.resolve("bin/tessera"));
        Matcher jvm = Pattern.compile("(?s)\\njvm=\\((.*?)\\)\\n").matcher(launcher);
        assertThat(jvm.find()).as("bin/tessera's jvm=(...) flags").isTrue();
        for (String flag : jvm.group(1).split("\\s+")) {
            if (flag.startsWith("-D") || flag.startsWith("-X")) {
                String name = flag.contains("=") ? flag.substring(0, flag.indexOf('=') + 1) : flag;
                assertThat(script).as("run-java.sh passes " + name + " as bin/tessera does").contains(name);
            }
        }
        String ignore = Files.readString(root.resolve(".dockerignore"));
        assertThat(ignore).contains("!target/quarkus-app/", "!src/main/docker/run-java.sh");
    }

    /**
     * Every directory the service writes (the relative defaults of the store, work and embedded Postgres directories
     * under WORKDIR, the DJL cache, docker-compose.yml's writable volumes) is created in the image and belongs to
     * its user 185: a named volume starts with the owner of the image's directory.
     */
    @Test
    void everyPathTheServiceWritesBelongsToItsUser() throws Exception {
        ConfigKeys keys = ConfigKeys.load(root);
        JsonNode compose = new YAMLMapper().readTree(root.resolve("docker-compose.yml").toFile());
        List<String> composeWrites = new ArrayList<>();
        compose.path("services").path("tessera").path("volumes").forEach(v -> {
            String[] parts = v.asText().split(":");
            if (parts.length == 2 || !parts[2].contains("ro")) {
                composeWrites.add(parts[1]);
            }
        });
        assertThat(composeWrites).as("docker-compose.yml's writable volumes").isNotEmpty();
        for (String name : List.of("Dockerfile.jvm", "Dockerfile.gpu")) {
            String dockerfile = Files.readString(root.resolve("src/main/docker").resolve(name)).replaceAll("\\\\\\n", " ");
            Matcher workdir = Pattern.compile("(?m)^WORKDIR\\s+(\\S+)").matcher(dockerfile);
            assertThat(workdir.find()).as(name + " WORKDIR").isTrue();
            Path home = Path.of(workdir.group(1));
            List<Path> writes = new ArrayList<>();
            for (String property : List.of("tessera.store.root", "tessera.registry.work-dir", "tessera.store.embedded-postgres-dir")) {
                writes.add(home.resolve(keys.defaultOf(property)));
            }
            writes.add(Path.of(envInstructions(dockerfile).get("DJL_CACHE_DIR")));
            composeWrites.forEach(w -> writes.add(Path.of(w)));
            List<Path> created = paths(dockerfile, "mkdir -p");
            List<Path> owned = paths(dockerfile, "chown -R 185:0");
            for (Path w : writes) {
                assertThat(owned).as(name + ": " + w + " (or a directory above it) is chown -R 185:0")
                        .anyMatch(o -> w.startsWith(o) && created.stream().anyMatch(c -> c.startsWith(o)));
            }
        }
    }

    /** The absolute paths following {@code command} in the Dockerfile's RUN instructions. */
    private static List<Path> paths(String dockerfile, String command) {
        List<Path> out = new ArrayList<>();
        Matcher m = Pattern.compile(Pattern.quote(command) + "((?:\\s+/\\S+)+)").matcher(dockerfile);
        while (m.find()) {
            for (String p : m.group(1).trim().split("\\s+")) {
                out.add(Path.of(p));
            }
        }
        return out;
    }

    /** The variables of every ENV instruction (KEY=VALUE form, continued lines joined). */
    static Map<String, String> envInstructions(String dockerfile) {
        Map<String, String> env = new LinkedHashMap<>();
        String joined = dockerfile.replaceAll("\\\\\\n", " ");
        Matcher line = Pattern.compile("(?m)^ENV\\s+(.*)$").matcher(joined);
        while (line.find()) {
            Matcher kv = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\\S+)").matcher(line.group(1));
            while (kv.find()) {
                env.put(kv.group(1), kv.group(2).replace("\"", ""));
            }
        }
        return env;
    }

    static String jniVersion() throws Exception {
        Properties p = new Properties();
        try (InputStream in = ContainerImagesTest.class.getResourceAsStream("/jnilib/pytorch.properties")) {
            assertThat(in).as("pytorch-jni on the class path").isNotNull();
            p.load(in);
        }
        return p.getProperty("jni_version");
    }

    private static String text(Element e, String tag) {
        NodeList n = e.getElementsByTagName(tag);
        return n.getLength() == 0 ? "" : n.item(0).getTextContent().trim();
    }
}
