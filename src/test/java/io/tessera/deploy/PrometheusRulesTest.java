package io.tessera.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.tessera.testing.Promtool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The alerts of k8s/base/prometheusrule.yaml pass their `promtool test rules` cases
 * (src/test/resources/prometheus/alerts-test.yaml), and every alert fires in at least one of them.
 */
class PrometheusRulesTest {
    private final Path root = DeployFiles.root();

    @Test
    void everyAlertPassesItsPromtoolUnitTests() throws Exception {
        YAMLMapper yaml = new YAMLMapper();
        JsonNode spec = yaml.readTree(root.resolve("k8s/base/prometheusrule.yaml").toFile()).path("spec");
        Path tests = root.resolve("src/test/resources/prometheus/alerts-test.yaml");
        Path work = Files.createDirectories(root.resolve("target/promtool"));
        // promtool reads plain rule files: the PrometheusRule's spec is one
        yaml.writeValue(work.resolve("rules.yaml").toFile(), spec);
        Files.copy(tests, work.resolve("alerts-test.yaml"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        Promtool.Result r = Promtool.run(work, "", "test", "rules", "alerts-test.yaml");
        assertThat(r.exit()).as(r.output()).isZero();

        Set<String> alerts = new TreeSet<>();
        spec.path("groups").forEach(g -> g.path("rules").forEach(rule -> {
            if (rule.has("alert")) {
                alerts.add(rule.path("alert").asText());
            }
        }));
        Set<String> firing = new TreeSet<>();
        yaml.readTree(tests.toFile()).path("tests").forEach(t -> t.path("alert_rule_test").forEach(a -> {
            if (!a.path("exp_alerts").isEmpty()) {
                firing.add(a.path("alertname").asText());
            }
        }));
        assertThat(alerts).contains("TesseraDown");
        assertThat(firing).as("alerts with a case where they fire").containsAll(alerts);
    }
}
