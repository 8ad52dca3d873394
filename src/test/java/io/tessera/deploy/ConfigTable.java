package io.tessera.deploy;

import io.tessera.config.TesseraConfig;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * README.md's table of the application's tessera.* properties, generated: the properties, defaults and declaring
 * methods as SmallRye lists them ({@link ConfigKeys}), application.properties' value as the default where it sets
 * one, and each method's javadoc (read from its source file: javadoc is not in the class files) as the meaning.
 * Rows follow the mappings (TesseraConfig first, then by prefix) and each mapping's declaration order.
 */
final class ConfigTable {
    static final String START = "<!-- generated from the @ConfigMapping interfaces: mvn test -Dtest=ReadmeConfigTableTest -Dreadme.write -->";
    static final String END = "<!-- end of the generated table -->";

    private static final Pattern JAVADOC_TAG = Pattern.compile("\\{@(?:code|link|linkplain)\\s+([^}]*)}");

    private record Row(Key key, int position, String markdown) {
        record Key(boolean root, String source) {
        }
    }

    private ConfigTable() {
    }

    /** The generated table: header and rows, one per line. */
    static String rows(ConfigKeys keys, Path sources) throws IOException {
        Map<Class<?>, String> files = new HashMap<>();
        List<Row> rows = new ArrayList<>();
        for (ConfigKeys.Key k : keys.keys()) {
            if (k.method() == null || !k.property().startsWith("tessera.")) {
                continue;
            }
            Method m = k.method();
            Class<?> top = m.getDeclaringClass();
            while (top.getEnclosingClass() != null) {
                top = top.getEnclosingClass();
            }
            Path file = sources.resolve(top.getName().replace('.', '/') + ".java");
            String source = files.computeIfAbsent(top, t -> read(file));
            Matcher doc = javadoc(source, m);
            String def = keys.defaultOf(k.property());
            String cell = def == null ? "—" : def.isEmpty() ? "(empty)" : "`" + def + "`";
            rows.add(new Row(new Row.Key(top == TesseraConfig.class, k.source()), doc.start(), "| `" + k.property() + "` | `"
                    + ConfigKeys.toEnv(k.property()) + "` | " + cell + " | " + markdown(doc.group(1)) + " |"));
        }
        rows.sort(Comparator.comparing((Row r) -> !r.key().root()).thenComparing(r -> r.key().source())
                .thenComparingInt(Row::position));
        StringBuilder out = new StringBuilder("| property | environment variable | default | meaning |\n|---|---|---|---|\n");
        rows.forEach(r -> out.append(r.markdown()).append('\n'));
        return out.toString();
    }

    /** The javadoc before {@code m}'s declaration, looked for from the declaring interface's start. */
    private static Matcher javadoc(String source, Method m) {
        Class<?> declaring = m.getDeclaringClass();
        Matcher at = Pattern.compile("\\binterface\\s+" + declaring.getSimpleName() + "\\b").matcher(source);
        if (!at.find()) {
            throw new IllegalStateException("no interface " + declaring.getSimpleName() + " in its source file");
        }
        // the comment, the method's annotations, its return type and name: none of these hold ';' or '/'
        Matcher doc = Pattern.compile("/\\*\\*((?:(?!\\*/).)*)\\*/\\s*(?:@\\w+(?:\\([^)]*\\))?\\s*)*[\\w<>?,.\\s\\[\\]]+?\\b"
                + m.getName() + "\\(\\)\\s*;", Pattern.DOTALL).matcher(source);
        if (!doc.find(at.start())) {
            throw new IllegalStateException(declaring.getName() + "#" + m.getName()
                    + " has no javadoc: README's configuration table takes the property's meaning from it");
        }
        return doc;
    }

    /** Javadoc text as one table cell: one line, {@code x} as `x`, pipes escaped. */
    private static String markdown(String javadoc) {
        String text = javadoc.replaceAll("(?m)^\\s*\\*\\s?", " ").replaceAll("\\s+", " ").trim();
        return JAVADOC_TAG.matcher(text).replaceAll(r -> "`" + Matcher.quoteReplacement(r.group(1).trim()) + "`")
                .replace("|", "\\|");
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file, e);
        }
    }
}
