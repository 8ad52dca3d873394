package io.tessera.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * README.md's configuration table stays true: its tessera.* rows are the ones {@link ConfigTable} generates from
 * the application's mappings (run with {@code -Dreadme.write} to write them); every other listed property (the
 * Quarkus ones) exists, with its environment variable and the default the application really has
 * (application.properties, else the extension's default; "—" for none, "(empty)" for "").
 */
class ReadmeConfigTableTest {

    record Row(String property, String env, String defaultValue, String meaning) {
    }

    @Test
    void generatedRowsAreCurrent() throws Exception {
        Path readme = DeployFiles.root().resolve("README.md");
        String text = Files.readString(readme);
        int start = text.indexOf(ConfigTable.START);
        int end = text.indexOf(ConfigTable.END);
        assertThat(start).as("README.md has the generated rows' markers").isNotNegative().isLessThan(end);
        int from = start + ConfigTable.START.length() + 1;
        String rows = ConfigTable.rows(ConfigKeys.load(DeployFiles.root()), DeployFiles.root().resolve("src/main/java"));
        if (System.getProperty("readme.write") != null) {
            Files.writeString(readme, text.substring(0, from) + rows + text.substring(end));
        } else {
            assertThat(text.substring(from, end)).as("README.md's configuration rows (rewrite them with -Dreadme.write)")
                    .isEqualTo(rows);
        }
    }

    @Test
    void tableMatchesTheApplication() throws Exception {
        ConfigKeys keys = ConfigKeys.load(DeployFiles.root());
        Map<String, Row> rows = table();
        assertThat(rows).as("README.md has a configuration table").isNotEmpty();

        List<String> problems = new ArrayList<>();
        for (Row r : rows.values()) {
            if (!keys.hasProperty(r.property())) {
                problems.add(r.property() + ": no such property in the application");
                continue;
            }
            if (!r.env().equals(ConfigKeys.toEnv(r.property()))) {
                problems.add(r.property() + ": environment variable is " + ConfigKeys.toEnv(r.property()) + ", not " + r.env());
            }
            String actual = keys.defaultOf(r.property());
            String listed = switch (r.defaultValue()) {
                case "—" -> null;
                case "(empty)" -> "";
                default -> r.defaultValue();
            };
            if (!java.util.Objects.equals(actual, listed)) {
                problems.add(r.property() + ": default is " + (actual == null ? "—" : actual) + ", the table says "
                        + r.defaultValue());
            }
            if (r.meaning().isBlank()) {
                problems.add(r.property() + ": no meaning given");
            }
        }
        assertThat(problems).isEmpty();
    }

    /** The rows of the table under "### Configuration reference": | `property` | `ENV` | default | meaning |. */
    static Map<String, Row> table() throws Exception {
        List<String> lines = Files.readAllLines(DeployFiles.root().resolve("README.md"));
        Map<String, Row> rows = new LinkedHashMap<>();
        boolean in = false;
        for (String line : lines) {
            if (line.startsWith("#")) {
                in = line.equals("### Configuration reference");
                continue;
            }
            if (!in || !line.startsWith("| `")) {
                continue;
            }
            String[] cells = line.substring(1, line.length() - (line.endsWith("|") ? 1 : 0)).split("(?<!\\\\)\\|", -1);
            assertThat(cells.length).as("4 cells: " + line).isGreaterThanOrEqualTo(4);
            String property = unquote(cells[0]);
            rows.put(property, new Row(property, unquote(cells[1]), unquote(cells[2]),
                    String.join("|", java.util.Arrays.copyOfRange(cells, 3, cells.length)).trim()));
        }
        return rows;
    }

    private static String unquote(String cell) {
        String c = cell.trim();
        return c.startsWith("`") && c.endsWith("`") && c.length() >= 2 ? c.substring(1, c.length() - 1) : c;
    }
}
