package io.tessera.engine.adapter;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RE2/J and the plain-name shortcut decide exactly as PEFT's Python patterns (here: java.util.regex) would. */
class ModulePatternTest {
    private static final Path CFG = Path.of("adapter_config.json");
    private static final List<String> MODULES = List.of("model.layers.0.self_attn.q_proj", "model.layers.1.mlp.down_proj",
            "model.layers.110.mlp.down_proj", "model.layers.10.mlp.down_proj", "q_proj", "xq_proj", "model.layers.3.self_attn.xq_proj");

    @Test
    void patternKeysMatchLikePeft() {
        List<String> keys = List.of("q_proj", "down_proj", "1.mlp.down_proj", "1.0.mlp.down_proj", "layers.1.mlp.down_proj",
                "model.layers.0.self_attn.q_proj", "self_attn.q_proj", "q.proj", "layers\\.1.*", "(q|k)_proj", ".*");
        for (String key : keys) {
            java.util.regex.Pattern peft = java.util.regex.Pattern.compile("(.*\\.)?(" + key + ")$");
            ModulePattern p = ModulePattern.suffix(CFG, "rank_pattern", key);
            for (String m : MODULES) {
                assertThat(p.matches(m)).as(key + " on " + m).isEqualTo(peft.matcher(m).matches());
            }
        }
        // '.' of a plain key is a wildcard, as in Python: 1.0 matches the 110 of layer 110
        assertThat(ModulePattern.suffix(CFG, "rank_pattern", "1.0.mlp.down_proj").matches("model.layers.110.mlp.down_proj")).isTrue();
        assertThat(ModulePattern.suffix(CFG, "rank_pattern", "q_proj").isRegex()).isFalse();
        assertThat(ModulePattern.suffix(CFG, "rank_pattern", "(q|k)_proj").isRegex()).isTrue();
    }

    @Test
    void targetRegexIsAFullMatch() {
        for (String regex : List.of(".*\\.(q_proj|v_proj)", "q_proj", ".*layers\\.1\\..*", "model.layers.[0-9]+.mlp.down_proj")) {
            ModulePattern p = ModulePattern.full(CFG, "target_modules", regex);
            for (String m : MODULES) {
                assertThat(p.matches(m)).as(regex + " on " + m).isEqualTo(m.matches(regex));
            }
        }
    }
}
