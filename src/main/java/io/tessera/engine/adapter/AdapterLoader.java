package io.tessera.engine.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.engine.Checkpoint;
import io.tessera.engine.DecoderModel;
import io.tessera.engine.ModelConfig;
import io.tessera.engine.ModelConfig.MoeConfig;
import io.tessera.engine.safetensors.SizeLimitException;
import io.tessera.engine.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.stream.Stream;

/**
 * Reads a PEFT adapter directory ({@code adapter_config.json} + {@code adapter_model.safetensors}) and checks it
 * against the base model. Everything that cannot be served exactly is refused with the reason; an adapter never
 * silently becomes the base model. Pure I/O and validation: safe to run off the engine thread.
 */
public final class AdapterLoader {
    private static final Set<String> PICKLE_SUFFIXES = Set.of(".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt");
    private static final List<String> PROJECTIONS = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
    private static final String PREFIX = "base_model.model.";
    /** A PEFT adapter_config.json is a few kilobytes; one this large is an attack on memory. */
    public static final long DEFAULT_MAX_CONFIG_BYTES = 1 << 20;
    /** rank_pattern / alpha_pattern entries (a config may list every module of a large model). */
    static final int MAX_PATTERN_KEYS = 4096;
    /** Keys of one pattern map that need RE2/J: matching cost is their number times the modules. */
    static final int MAX_REGEX_KEYS = 64;

    private final DecoderModel model;
    private final ModelConfig config;
    private final long maxConfigBytes;

    public AdapterLoader(DecoderModel model) {
        this(model, DEFAULT_MAX_CONFIG_BYTES);
    }

    /** @param maxConfigBytes adapter_config.json larger than this is refused before it is read */
    public AdapterLoader(DecoderModel model, long maxConfigBytes) {
        if (maxConfigBytes < 2 || maxConfigBytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("maxConfigBytes " + maxConfigBytes + " is outside 2.." + (Integer.MAX_VALUE - 8));
        }
        this.model = model;
        this.config = model.config();
        this.maxConfigBytes = maxConfigBytes;
    }

    public Adapter load(Path dir) {
        refusePickles(dir);
        AdapterConfig adapterConfig = AdapterConfig.read(dir, maxConfigBytes);
        Path cfgFile = adapterConfig.file();
        JsonNode cfg = adapterConfig.json();
        String type = adapterConfig.peftType();
        Path weights = dir.resolve("adapter_model.safetensors");
        if (!Files.isRegularFile(weights)) {
            throw new AdapterException(weights + ": file not found");
        }
        try (Checkpoint cp = Checkpoint.openFile(weights)) {
            return switch (type.toUpperCase(Locale.ROOT)) {
                case "LORA" -> lora(cfgFile, cfg, weights, cp);
                case "PROMPT_TUNING" -> promptTuning(cfgFile, cfg, weights, cp);
                case "MOGE_EXPERT_GROUPS" -> expertGroups(cfgFile, cfg, weights, cp);
                default -> throw new AdapterException(cfgFile + ": unsupported peft_type '" + type
                        + "' (supported: LORA, PROMPT_TUNING, MOGE_EXPERT_GROUPS)");
            };
        }
    }

    private static void refusePickles(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new AdapterException(dir + ": adapter directory not found");
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
                if (PICKLE_SUFFIXES.stream().anyMatch(name::endsWith)) {
                    throw new AdapterException(f + ": pickle files are never loaded (unsafe); save the adapter as adapter_model.safetensors");
                }
            }
        } catch (IOException e) {
            throw new AdapterException(dir + ": cannot list (" + e.getMessage() + ")");
        }
    }

    // ---- LoRA / rsLoRA / DoRA ----

    private LoraAdapter lora(Path cfgFile, JsonNode cfg, Path weights, Checkpoint cp) {
        if (cfg.path("fan_in_fan_out").asBoolean(false)) {
            throw new AdapterException(cfgFile + ": fan_in_fan_out is true (Conv1D-style weights) and is not supported");
        }
        JsonNode mts = cfg.get("modules_to_save");
        if (mts != null && !mts.isNull() && !(mts.isArray() && mts.isEmpty())) {
            throw new AdapterException(cfgFile + ": modules_to_save " + brief(mts.toString()) + " is not supported (full module copies cannot be batched)");
        }
        if (cfg.path("lora_bias").asBoolean(false) || !cfg.path("bias").asText("none").equals("none")) {
            throw new AdapterException(cfgFile + ": trained biases (bias / lora_bias) are not supported");
        }
        for (String name : cp.names()) {
            if (name.contains("embed_tokens") || name.contains("lm_head")) {
                throw new AdapterException(weights + ": tensor " + name + " targets the embedding or lm_head, which is not supported");
            }
        }
        TargetMatcher targets = new TargetMatcher(cfgFile, cfg);
        // PEFT's defaults: r 8, lora_alpha 8
        int r = cfg.has("r") ? rank(cfgFile, "r", cfg.get("r")) : 8;
        double alpha = cfg.has("lora_alpha") ? alpha(cfgFile, "lora_alpha", cfg.get("lora_alpha")) : 8;
        List<Rule<Integer>> rankPattern = rules(cfgFile, cfg, "rank_pattern", (f, n) -> rank(cfgFile, f, n));
        List<Rule<Double>> alphaPattern = rules(cfgFile, cfg, "alpha_pattern", (f, n) -> alpha(cfgFile, f, n));
        boolean rs = cfg.path("use_rslora").asBoolean(false);
        boolean dora = cfg.path("use_dora").asBoolean(false);
        Map<String, LoraAdapter.Module> modules = new LinkedHashMap<>();
        Set<String> used = new HashSet<>();
        int maxRank = 0;
        boolean dense = model.hasDenseMlp();
        for (int l = 0; l < config.numLayers(); l++) {
            for (String proj : PROJECTIONS) {
                boolean mlp = io.tessera.engine.Site.of(proj).block.equals("mlp");
                String module = "model.layers." + l + "." + (mlp ? "mlp." : "self_attn.") + proj;
                if (!targets.matches(module, l)) {
                    continue;
                }
                if (mlp && !dense) {
                    throw new AdapterException(cfgFile + ": target " + proj + " is an expert MLP of a MoGE model; LoRA there is not supported");
                }
                int rank = first(rankPattern, module, r);
                double a = first(alphaPattern, module, alpha);
                float scale = (float) (rs ? a / Math.sqrt(rank) : a / rank);
                if (!(scale > 0) || !Float.isFinite(scale)) {
                    throw new AdapterException(cfgFile + ": the scaling of " + module + " (lora_alpha / alpha_pattern "
                            + a + " over " + (rs ? "sqrt(r) " : "r ") + rank + ") is not a positive finite float32");
                }
                int in = model.inputSize(proj);
                int[] range = model.outputRange(io.tessera.engine.Site.of(proj), proj);
                int out = range[1] - range[0];
                if (rank > Math.min(in, out)) {
                    // full rank already; larger only costs memory (every slot of the rank's bucket, on every site)
                    throw new AdapterException(cfgFile + ": rank " + rank + " of " + module + " (r / rank_pattern) is above "
                            + "min(in, out) = " + Math.min(in, out));
                }
                String base = PREFIX + module;
                float[] wa = tensor(cp, weights, base + ".lora_A.weight", rank, in);
                float[] wb = tensor(cp, weights, base + ".lora_B.weight", out, rank);
                used.add(base + ".lora_A.weight");
                used.add(base + ".lora_B.weight");
                float[] dscale = null;
                if (dora) {
                    float[] mag = tensor(cp, weights, base + ".lora_magnitude_vector", out);
                    used.add(base + ".lora_magnitude_vector");
                    dscale = doraScale(model.baseWeight(l, proj), wa, wb, scale, mag, out, in, rank);
                }
                modules.put(LoraAdapter.key(l, proj), new LoraAdapter.Module(l, proj, rank, scale, wa, wb, dscale));
                maxRank = Math.max(maxRank, rank);
            }
        }
        if (modules.isEmpty()) {
            throw new AdapterException(cfgFile + ": target_modules " + brief(cfg.get("target_modules").toString())
                    + " match no module of the base model");
        }
        for (String name : cp.names()) {
            if (!used.contains(name)) {
                throw new AdapterException(weights + ": tensor " + name + " does not belong to any targeted module of the base model");
            }
        }
        return new LoraAdapter(maxRank, dora, modules);
    }

    /** m / ||W + s B A|| per output row, with W [out, in], A [r, in], B [out, r]. */
    static float[] doraScale(float[] w, float[] a, float[] b, float s, float[] mag, int out, int in, int r) {
        float[] res = new float[out];
        double[] row = new double[in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                row[i] = w[o * in + i];
            }
            for (int k = 0; k < r; k++) {
                double bk = s * (double) b[o * r + k];
                for (int i = 0; i < in; i++) {
                    row[i] += bk * a[k * in + i];
                }
            }
            double n = 0;
            for (int i = 0; i < in; i++) {
                n += row[i] * row[i];
            }
            res[o] = (float) (mag[o] / Math.sqrt(n));
        }
        return res;
    }

    /** A LoRA rank: a JSON integer >= 1 (a string, a fraction or 0 would make PEFT fail or divide by zero). */
    private static int rank(Path cfgFile, String field, JsonNode n) {
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 1) {
            throw new AdapterException(cfgFile + ": " + field + " must be an integer >= 1, not " + shown(n));
        }
        return n.intValue();
    }

    /** A LoRA alpha: a finite JSON number > 0 (not a string such as "NaN", not 1e309, which parses as infinity). */
    private static double alpha(Path cfgFile, String field, JsonNode n) {
        if (!n.isNumber() || !Double.isFinite(n.doubleValue()) || n.doubleValue() <= 0) {
            throw new AdapterException(cfgFile + ": " + field + " must be a finite number > 0, not " + shown(n));
        }
        return n.doubleValue();
    }

    /** A number as its value (Jackson writes an infinite double as the string "Infinity"), anything else as JSON. */
    private static String shown(JsonNode n) {
        return n.isNumber() ? n.asText() : brief(n.toString());
    }

    /** Text from an upload or a request as a message may quote it: one line, at most 120 characters. */
    public static String brief(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(120)
                .forEach(c -> b.append(Character.isISOControl(c) ? String.format("\\u%04x", c) : Character.toString(c)));
        return s.codePointCount(0, s.length()) > 120 ? b + "..." : b.toString();
    }

    /** One rank_pattern / alpha_pattern entry. */
    private record Rule<T>(ModulePattern pattern, T value) {
    }

    /** A pattern map's entries in file order, every key and value checked before any module is matched. */
    private static <T> List<Rule<T>> rules(Path cfgFile, JsonNode cfg, String field, BiFunction<String, JsonNode, T> value) {
        JsonNode map = cfg.get(field);
        if (map == null || map.isNull()) {
            return List.of();
        }
        if (!map.isObject() || map.size() > MAX_PATTERN_KEYS) {
            throw new AdapterException(cfgFile + ": " + field + " must be an object of at most " + MAX_PATTERN_KEYS
                    + " module patterns");
        }
        List<Rule<T>> rules = new ArrayList<>();
        int regexes = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = brief(e.getKey());
            ModulePattern p = ModulePattern.suffix(cfgFile, field + " key '" + key + "'", e.getKey());
            if (p.isRegex() && ++regexes > MAX_REGEX_KEYS) {
                throw new AdapterException(cfgFile + ": " + field + " has more than " + MAX_REGEX_KEYS
                        + " keys that are regular expressions (plain module names are not limited so)");
            }
            rules.add(new Rule<>(p, value.apply(field + " value of '" + key + "'", e.getValue())));
        }
        return rules;
    }

    /** PEFT's rule: the value of the first key, in file order, that matches the module name. */
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

        TargetMatcher(Path cfgFile, JsonNode cfg) {
            JsonNode t = cfg.get("target_modules");
            if (t != null && t.isTextual()) {
                regex = ModulePattern.full(cfgFile, "target_modules", t.asText());
            } else if (t != null && t.isArray() && !t.isEmpty()) {
                regex = null;
                t.forEach(n -> names.add(n.asText()));
            } else {
                throw new AdapterException(cfgFile + ": target_modules is missing or empty");
            }
            for (String n : names) {
                if (n.equals("embed_tokens") || n.equals("lm_head")) {
                    throw new AdapterException(cfgFile + ": target " + n + " (embedding / lm_head) is not supported");
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
            excludedRegex = ex != null && ex.isTextual() ? ModulePattern.full(cfgFile, "exclude_modules", ex.asText()) : null;
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

    // ---- prompt tuning ----

    private PromptTuningAdapter promptTuning(Path cfgFile, JsonNode cfg, Path weights, Checkpoint cp) {
        if (cfg.path("num_transformer_submodules").asLong(1) != 1) {
            throw new AdapterException(cfgFile + ": num_transformer_submodules must be 1 for a decoder");
        }
        for (String name : cp.names()) {
            if (!name.equals("prompt_embeddings")) {
                throw new AdapterException(weights + ": unexpected tensor " + name + " in a prompt-tuning adapter");
            }
        }
        if (!cp.has("prompt_embeddings")) {
            throw new AdapterException(weights + ": missing tensor prompt_embeddings");
        }
        TensorInfo t = cp.info("prompt_embeddings");
        // the rank first: a scalar has no first dimension to read
        if (t.shape().length != 2 || t.shape()[0] < 1 || t.shape()[0] > 512) {
            throw new AdapterException(weights + ": prompt_embeddings has shape " + t.shapeString()
                    + "; it must be [num_virtual_tokens (1..512), hidden]");
        }
        int n = (int) t.shape()[0];
        JsonNode nvt = cfg.get("num_virtual_tokens");
        if (nvt != null && !(nvt.isIntegralNumber() && nvt.canConvertToInt() && nvt.intValue() == n)) {
            throw new AdapterException(cfgFile + ": num_virtual_tokens " + cfg.get("num_virtual_tokens") + " disagrees with prompt_embeddings " + t.shapeString());
        }
        float[] emb = tensor(cp, weights, "prompt_embeddings", n, config.hiddenSize());
        return new PromptTuningAdapter(n, config.hiddenSize(), emb);
    }

    // ---- MoGE expert groups ----

    private ExpertGroupAdapter expertGroups(Path cfgFile, JsonNode cfg, Path weights, Checkpoint cp) {
        MoeConfig moe = config.moe().orElseThrow(() -> new AdapterException(cfgFile
                + ": MOGE_EXPERT_GROUPS adapters need a MoGE base model, this one is " + config.modelType()));
        if (cfg.has("num_experts") && cfg.get("num_experts").asLong() != moe.numExperts()
                || cfg.has("num_expert_groups") && cfg.get("num_expert_groups").asLong() != moe.numExpertGroups()) {
            throw new AdapterException(cfgFile + ": num_experts / num_expert_groups do not match the base model ("
                    + moe.numExperts() + " / " + moe.numExpertGroups() + ")");
        }
        JsonNode g = cfg.get("expert_groups");
        if (g == null || !g.isArray() || g.isEmpty()) {
            throw new AdapterException(cfgFile + ": expert_groups must be a non-empty list");
        }
        TreeSet<Integer> groups = new TreeSet<>();
        for (JsonNode n : g) {
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 0 || n.asInt() >= moe.numExpertGroups()) {
                throw new AdapterException(cfgFile + ": expert group " + n + " is outside 0.." + (moe.numExpertGroups() - 1));
            }
            groups.add(n.asInt());
        }
        int per = moe.expertsPerGroup();
        int[] experts = groups.stream().flatMapToInt(x -> java.util.stream.IntStream.range(x * per, x * per + per)).toArray();
        int e = config.hiddenSize();
        int inter = moe.moeIntermediateSize();
        float[][] gu = new float[config.numLayers()][];
        float[][] dn = new float[config.numLayers()][];
        Set<String> expected = new HashSet<>();
        for (int l = 0; l < config.numLayers(); l++) {
            String p = "model.layers." + l + ".mlp.";
            float[] lgu = new float[experts.length * e * 2 * inter];
            float[] ldn = new float[experts.length * inter * e];
            for (int i = 0; i < experts.length; i++) {
                for (String proj : List.of("gate_proj", "up_proj", "down_proj")) {
                    String name = p + "experts." + experts[i] + "." + proj + ".weight";
                    expected.add(name);
                    if (!cp.has(name)) {
                        throw new AdapterException(weights + ": missing tensor " + name);
                    }
                }
                float[][] one = DecoderModel.readExperts(cp, p, experts[i], 1, e, inter);
                checkFinite(weights, p + "experts." + experts[i], one[0]);
                checkFinite(weights, p + "experts." + experts[i], one[1]);
                System.arraycopy(one[0], 0, lgu, i * one[0].length, one[0].length);
                System.arraycopy(one[1], 0, ldn, i * one[1].length, one[1].length);
            }
            gu[l] = lgu;
            dn[l] = ldn;
        }
        for (String name : cp.names()) {
            if (!expected.contains(name)) {
                throw new AdapterException(weights + ": tensor " + name + " is not an expert of the listed expert_groups " + groups);
            }
        }
        return new ExpertGroupAdapter(List.copyOf(groups), experts, gu, dn);
    }

    private static float[] tensor(Checkpoint cp, Path file, String name, long... shape) {
        if (!cp.has(name)) {
            throw new AdapterException(file + ": missing tensor " + name);
        }
        TensorInfo t = cp.info(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new AdapterException(file + ": tensor " + name + " has shape " + t.shapeString()
                    + " but the base model needs " + Arrays.toString(shape));
        }
        return checkFinite(file, name, cp.read(name, shape));
    }

    private static float[] checkFinite(Path file, String name, float[] v) {
        for (float f : v) {
            if (!Float.isFinite(f)) {
                throw new AdapterException(file + ": tensor " + name + " contains NaN or Inf");
            }
        }
        return v;
    }
}
