package io.tessera.engine.adapter;

import static io.tessera.engine.adapter.AdapterLoader.brief;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * The LoRA fields of an adapter_config.json, every value checked before any module is matched: targets
 * (target_modules, layers_to_transform, exclude_modules), r / lora_alpha and their per-module patterns, rsLoRA, DoRA.
 */
final class LoraConfig {
    /** rank_pattern / alpha_pattern entries (a config may list every module of a large model). */
    static final int MAX_PATTERN_KEYS = 4096;
    /** Keys of one pattern map that need RE2/J: matching cost is their number times the modules. */
    static final int MAX_REGEX_KEYS = 64;

    private final AdapterSource source;
    private final TargetMatcher targets;
    private final int r;
    private final double alpha;
    private final List<Rule<Integer>> rankPattern;
    private final List<Rule<Double>> alphaPattern;
    final boolean rs;
    final boolean dora;

    LoraConfig(AdapterSource source) {
        this.source = source;
        JsonNode cfg = source.json();
        if (cfg.path("fan_in_fan_out").asBoolean(false)) {
            throw source.badConfig("fan_in_fan_out is true (Conv1D-style weights) and is not supported");
        }
        JsonNode mts = cfg.get("modules_to_save");
        if (mts != null && !mts.isNull() && !(mts.isArray() && mts.isEmpty())) {
            throw source.badConfig("modules_to_save " + brief(mts.toString()) + " is not supported (full module copies cannot be batched)");
        }
        if (cfg.path("lora_bias").asBoolean(false) || !cfg.path("bias").asText("none").equals("none")) {
            throw source.badConfig("trained biases (bias / lora_bias) are not supported");
        }
        for (String name : source.checkpoint().names()) {
            if (name.contains("embed_tokens") || name.contains("lm_head")) {
                throw source.badWeights("tensor " + name + " targets the embedding or lm_head, which is not supported");
            }
        }
        targets = new TargetMatcher(source, cfg);
        // PEFT's defaults: r 8, lora_alpha 8
        r = cfg.has("r") ? rank("r", cfg.get("r")) : 8;
        alpha = cfg.has("lora_alpha") ? alpha("lora_alpha", cfg.get("lora_alpha")) : 8;
        rankPattern = rules("rank_pattern", this::rank);
        alphaPattern = rules("alpha_pattern", this::alpha);
        rs = cfg.path("use_rslora").asBoolean(false);
        dora = cfg.path("use_dora").asBoolean(false);
    }

    boolean targets(String module, int layer) {
        return targets.matches(module, layer);
    }

    /** PEFT's rule: the value of the first rank_pattern key, in file order, that matches the module name. */
    int rank(String module) {
        return first(rankPattern, module, r);
    }

    double alpha(String module) {
        return first(alphaPattern, module, alpha);
    }

    /** A LoRA rank: a JSON integer >= 1 (a string, a fraction or 0 would make PEFT fail or divide by zero). */
    private int rank(String field, JsonNode n) {
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 1) {
            throw source.badConfig(field + " must be an integer >= 1, not " + shown(n));
        }
        return n.intValue();
    }

    private double alpha(String field, JsonNode n) {
        return alpha(source, field, n);
    }

    /** A LoRA alpha: a finite JSON number > 0 (not a string such as "NaN", not 1e309, which parses as infinity). */
    static double alpha(AdapterSource source, String field, JsonNode n) {
        if (!n.isNumber() || !Double.isFinite(n.doubleValue()) || n.doubleValue() <= 0) {
            throw source.badConfig(field + " must be a finite number > 0, not " + shown(n));
        }
        return n.doubleValue();
    }

    /** A number as its value (Jackson writes an infinite double as the string "Infinity"), anything else as JSON. */
    private static String shown(JsonNode n) {
        return n.isNumber() ? n.asText() : brief(n.toString());
    }

    /** One rank_pattern / alpha_pattern entry. */
    private record Rule<T>(ModulePattern pattern, T value) {
    }

    /** A pattern map's entries in file order, every key and value checked. */
    private <T> List<Rule<T>> rules(String field, BiFunction<String, JsonNode, T> value) {
        JsonNode map = source.json().get(field);
        if (map == null || map.isNull()) {
            return List.of();
        }
        if (!map.isObject() || map.size() > MAX_PATTERN_KEYS) {
            throw source.badConfig(field + " must be an object of at most " + MAX_PATTERN_KEYS + " module patterns");
        }
        List<Rule<T>> rules = new ArrayList<>();
        int regexes = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = brief(e.getKey());
            ModulePattern p = ModulePattern.suffix(source.configFile(), field + " key '" + key + "'", e.getKey());
            if (p.isRegex() && ++regexes > MAX_REGEX_KEYS) {
                throw source.badConfig(field + " has more than " + MAX_REGEX_KEYS
                        + " keys that are regular expressions (plain module names are not limited so)");
            }
            rules.add(new Rule<>(p, value.apply(field + " value of '" + key + "'", e.getValue())));
        }
        return rules;
    }

    private static <T> T first(List<Rule<T>> rules, String module, T fallback) {
        for (Rule<T> rule : rules) {
            if (rule.pattern().matches(module)) {
                return rule.value();
            }
        }
        return fallback;
    }

    /** target_modules (list: name or suffix match; string: full regex), layers_to_transform, exclude_modules. */
    private static final class TargetMatcher {
        private final List<String> names = new ArrayList<>();
        private final ModulePattern regex;
        private final Set<Integer> layers = new HashSet<>();
        private final List<String> excluded = new ArrayList<>();
        private final ModulePattern excludedRegex;

        TargetMatcher(AdapterSource source, JsonNode cfg) {
            JsonNode t = cfg.get("target_modules");
            if (t != null && t.isTextual()) {
                regex = ModulePattern.full(source.configFile(), "target_modules", t.asText());
            } else if (t != null && t.isArray() && !t.isEmpty()) {
                regex = null;
                t.forEach(n -> names.add(n.asText()));
            } else {
                throw source.badConfig("target_modules is missing or empty");
            }
            for (String n : names) {
                if (n.equals("embed_tokens") || n.equals("lm_head")) {
                    throw source.badConfig("target " + n + " (embedding / lm_head) is not supported");
                }
            }
            JsonNode lt = cfg.get("layers_to_transform");
            if (lt != null && lt.isArray()) {
                lt.forEach(n -> layers.add(n.asInt()));
            } else if (lt != null && lt.isIntegralNumber()) {
                layers.add(lt.asInt());
            }
            JsonNode ex = cfg.get("exclude_modules");
            if (ex != null && ex.isArray()) {
                ex.forEach(n -> excluded.add(n.asText()));
            }
            // PEFT: a string is a regular expression matched against the whole name, like target_modules
            excludedRegex = ex != null && ex.isTextual() ? ModulePattern.full(source.configFile(), "exclude_modules", ex.asText()) : null;
        }

        boolean matches(String module, int layer) {
            if (!layers.isEmpty() && !layers.contains(layer)) {
                return false;
            }
            if (excludedRegex != null && excludedRegex.matches(module)) {
                return false;
            }
            for (String x : excluded) {
                if (module.equals(x) || module.endsWith("." + x)) {
                    return false;
                }
            }
            if (regex != null) {
                return regex.matches(module);
            }
            for (String n : names) {
                if (module.equals(n) || module.endsWith("." + n)) {
                    return true;
                }
            }
            return false;
        }
    }
}
