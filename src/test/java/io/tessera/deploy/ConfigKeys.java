package io.tessera.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.ConfigMappingInterface;
import io.smallrye.config.common.utils.StringUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.lang.reflect.Method;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Every configuration property the application knows, to check the environment variables that
 * docker-compose.yml and k8s/ set:
 * <ul>
 *   <li>the keys of src/main/resources/application.properties (profile prefixes stripped);</li>
 *   <li>the application's own {@code @ConfigMapping} interfaces (found in target/classes), their properties as
 *       SmallRye's {@link ConfigMappingInterface} lists them (names, defaults, the method declaring each;
 *       {@code *} for a map key, {@code [*]} for a list index);</li>
 *   <li>every Quarkus extension on the class path, from the config model its jar ships
 *       (META-INF/quarkus-config-doc/quarkus-config-model.json: property, environment variable, phase).</li>
 * </ul>
 * An environment variable names a property when it equals the property's name upper-cased with every character
 * other than a letter or digit turned into '_' (Quarkus' rule), a map key matching any name.
 */
final class ConfigKeys {

    /** When a property can be set: Quarkus' phases, and APPLICATION for the application's own properties. */
    enum Phase { APPLICATION, RUN_TIME, BUILD_AND_RUN_TIME_FIXED, BUILD_TIME }

    /**
     * One known property: its name pattern ({@code *} = a map key, {@code [*]} = a list index), phase, where it is
     * declared, its default, and for the application's mappings the method that declares it (else null).
     */
    record Key(String property, Phase phase, String source, String defaultValue, Method method) {
        Pattern envPattern() {
            StringBuilder re = new StringBuilder();
            String p = property;
            for (int i = 0; i < p.length(); i++) {
                char c = p.charAt(i);
                if (p.startsWith("[*]", i)) {
                    re.append("_[0-9]+_");
                    i += 2;
                } else if (c == '*') {
                    re.append("[A-Z0-9_]+");
                } else if (Character.isLetterOrDigit(c)) {
                    re.append(Character.toUpperCase(c));
                } else {
                    re.append('_');
                }
            }
            return Pattern.compile(re.toString());
        }
    }

    private final List<Key> keys = new ArrayList<>();
    private final List<Pattern> patterns = new ArrayList<>();

    private ConfigKeys() {
    }

    /** The keys of this project: application.properties, target/classes' mappings, the extensions' models. */
    static ConfigKeys load(Path projectRoot) throws IOException {
        ConfigKeys k = new ConfigKeys();
        k.addApplicationProperties(projectRoot.resolve("src/main/resources/application.properties"));
        k.addMappings(projectRoot.resolve("target/classes"));
        k.addExtensionModels();
        return k;
    }

    List<Key> keys() {
        return keys;
    }

    /** The known properties an environment variable sets (empty: none). */
    List<Key> forEnv(String envVar) {
        List<Key> out = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            if (patterns.get(i).matcher(envVar).matches()) {
                out.add(keys.get(i));
            }
        }
        return out;
    }

    /** Whether the application has a property of this name (exact, or through a map key / list index). */
    boolean hasProperty(String property) {
        return !forEnv(toEnv(property)).isEmpty();
    }

    static String toEnv(String property) {
        return StringUtil.replaceNonAlphanumericByUnderscores(property).toUpperCase(Locale.ROOT);
    }

    private void add(String property, Phase phase, String source, String defaultValue) {
        add(property, phase, source, defaultValue, null);
    }

    private void add(String property, Phase phase, String source, String defaultValue, Method method) {
        Key key = new Key(property, phase, source, defaultValue, method);
        keys.add(key);
        patterns.add(key.envPattern());
    }

    private void addApplicationProperties(Path file) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        for (String name : p.stringPropertyNames()) {
            String key = name.startsWith("%") ? name.substring(name.indexOf('.') + 1) : name;
            // a profile's value (%test.) is no default of the running service
            add(key, Phase.APPLICATION, "application.properties", name.startsWith("%") ? null : p.getProperty(name));
        }
    }

    // ---------------------------------------------------------------- @ConfigMapping interfaces

    /** The application's {@code @ConfigMapping} interfaces (in target/classes), each property as SmallRye names it. */
    private void addMappings(Path classes) throws IOException {
        for (Class<?> mapping : mappings(classes)) {
            String prefix = mapping.getAnnotation(ConfigMapping.class).prefix();
            Map<String, ConfigMappingInterface.Property> properties = ConfigMappingInterface
                    .getProperties(ConfigMappingInterface.getConfigurationInterface(mapping)).get(mapping).get("");
            properties.forEach((path, p) -> add(prefix.isEmpty() ? path : prefix + "." + path, Phase.APPLICATION,
                    mapping.getName(), p.hasDefaultValue() ? p.getDefaultValue() : null, p.getMethod()));
        }
    }

    /** The interfaces annotated {@code @ConfigMapping} under {@code classes}, by name. */
    static List<Class<?>> mappings(Path classes) throws IOException {
        if (!Files.isDirectory(classes)) {
            throw new IllegalStateException(classes + " is missing: compile the project first");
        }
        byte[] marker = "Lio/smallrye/config/ConfigMapping;".getBytes(StandardCharsets.UTF_8);
        List<Path> files;
        try (Stream<Path> s = Files.walk(classes)) {
            files = s.filter(f -> f.toString().endsWith(".class")).sorted().toList();
        }
        List<Class<?>> out = new ArrayList<>();
        for (Path f : files) {
            if (indexOf(Files.readAllBytes(f), marker) < 0) {
                continue;
            }
            String name = classes.relativize(f).toString().replace('/', '.').replaceAll("\\.class$", "");
            try {
                Class<?> c = Class.forName(name, false, ConfigKeys.class.getClassLoader());
                if (c.isAnnotationPresent(ConfigMapping.class)) {
                    out.add(c);
                }
            } catch (ClassNotFoundException | LinkageError e) {
                throw new IllegalStateException("cannot load " + name, e);
            }
        }
        return out;
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    // ---------------------------------------------------------------- Quarkus extensions

    private void addExtensionModels() throws IOException {
        ObjectMapper json = new ObjectMapper();
        Enumeration<URL> models = ConfigKeys.class.getClassLoader()
                .getResources("META-INF/quarkus-config-doc/quarkus-config-model.json");
        int n = 0;
        while (models.hasMoreElements()) {
            URL url = models.nextElement();
            try (InputStream in = url.openStream()) {
                for (JsonNode root : json.readTree(in).path("configRoots")) {
                    walkModel(root.path("items"), url.toString());
                }
            }
            n++;
        }
        if (n == 0) {
            throw new IllegalStateException("no Quarkus config model on the class path");
        }
    }

    private void walkModel(JsonNode items, String source) {
        for (JsonNode item : items) {
            if (item.has("items")) {
                walkModel(item.path("items"), source);
                continue;
            }
            JsonNode path = item.path("path");
            if (path.isMissingNode()) {
                continue;
            }
            Phase phase = Phase.valueOf(item.path("phase").asText("RUN_TIME"));
            String def = item.hasNonNull("defaultValue") ? item.path("defaultValue").asText() : null;
            add(modelProperty(path.path("property").asText()), phase, source, def);
            for (JsonNode extra : item.path("additionalPaths")) {
                add(modelProperty(extra.path("property").asText()), phase, source, null);
            }
        }
    }

    /** quarkus.datasource."datasource-name".jdbc.url to quarkus.datasource.*.jdbc.url */
    private static String modelProperty(String p) {
        return p.replaceAll("\"[^\"]*\"", "*");
    }

    /**
     * The value a property has when nothing sets it: application.properties (no profile), else the default its
     * mapping ({@code @WithDefault}) or extension declares; null when there is none.
     */
    String defaultOf(String property) {
        String declared = null;
        for (Key k : keys) {
            if (!k.property().equals(property) || k.defaultValue() == null) {
                continue;
            }
            if (k.source().equals("application.properties")) {
                return k.defaultValue();
            }
            if (declared == null) {
                declared = k.defaultValue();
            }
        }
        return declared;
    }
}
