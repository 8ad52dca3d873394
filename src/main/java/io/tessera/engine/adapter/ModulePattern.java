package io.tessera.engine.adapter;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.nio.file.Path;

/**
 * A module-name pattern from an adapter_config.json, with PEFT's semantics but matched in time linear in the
 * name (RE2/J: no backtracking), so that no upload can pin a CPU. A pattern that is invalid, or too long or too
 * repetitive to compile cheaply, is refused naming its field.
 */
final class ModulePattern {
    /** PEFT patterns are module names or short alternations; nothing legitimate comes near this. */
    static final int MAX_LENGTH = 1024;
    /** RE2/J compiles counted repetition by copying: (a{1000}){1000} would be a million instructions. */
    private static final long MAX_EXPANSION = 100_000;
    private static final Pattern REPEAT = Pattern.compile("\\{([0-9]+)(,([0-9]*))?\\}");

    /** Set when the pattern is a name whose only metacharacter is '.', matched without RE2/J (the common case). */
    private final String dotted;
    private final Pattern regex;

    private ModulePattern(String dotted, Pattern regex) {
        this.dotted = dotted;
        this.regex = regex;
    }

    /** PEFT's rule for target_modules and exclude_modules given as a string: re.fullmatch(pattern, module). */
    static ModulePattern full(Path cfgFile, String field, String pattern) {
        return new ModulePattern(null, compile(cfgFile, field, pattern, pattern));
    }

    /** PEFT's rule for a rank_pattern / alpha_pattern key: re.match(rf"(.*\.)?({key})$", module). */
    static ModulePattern suffix(Path cfgFile, String field, String key) {
        if (!key.isEmpty() && key.length() <= MAX_LENGTH && key.chars().allMatch(c -> c == '.' || c == '_' || c == '-'
                || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')) {
            return new ModulePattern(key, null);
        }
        return new ModulePattern(null, compile(cfgFile, field, key, "(.*\\.)?(" + key + ")$"));
    }

    /** Whether this pattern costs RE2/J matching (callers bound how many of those one config may hold). */
    boolean isRegex() {
        return regex != null;
    }

    boolean matches(String module) {
        if (regex != null) {
            return regex.matcher(module).matches();
        }
        // (.*\.)?(k)$ with k of fixed length: k covers the last k.length() characters, which start the name or
        // follow a '.'; each '.' of k is a wildcard (any character but a newline)
        int start = module.length() - dotted.length();
        if (start < 0 || start > 0 && module.charAt(start - 1) != '.') {
            return false;
        }
        for (int i = 0; i < dotted.length(); i++) {
            char p = dotted.charAt(i);
            char c = module.charAt(start + i);
            if (p == '.' ? c == '\n' : p != c) {
                return false;
            }
        }
        return true;
    }

    private static Pattern compile(Path cfgFile, String field, String given, String regex) {
        if (given.length() > MAX_LENGTH) {
            throw new AdapterException(cfgFile + ": " + field + " is " + given.length() + " characters long, over the limit of "
                    + MAX_LENGTH);
        }
        long expansion = regex.length();
        for (Matcher m = REPEAT.matcher(regex); m.find(); ) {
            // {n}, {n,m}, {n,}: up to max(n, m) copies, or n + 1 for the open form; RE2/J itself refuses counts > 1000
            long copies = Math.max(count(m.group(1)), m.group(2) == null ? 0 : m.group(3).isEmpty()
                    ? count(m.group(1)) + 1 : count(m.group(3)));
            expansion = Math.min(Long.MAX_VALUE / 1001, expansion) * Math.max(1, copies);
        }
        if (expansion > MAX_EXPANSION) {
            throw new AdapterException(cfgFile + ": " + field + " repeats too much to compile (counted repetitions "
                    + "expand it past " + MAX_EXPANSION + " instructions)");
        }
        try {
            return Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new AdapterException(cfgFile + ": " + field + " is not a valid regular expression ("
                    + e.getDescription() + ")");
        }
    }

    /** A repetition count, saturated: more than four digits is refused by RE2/J anyway. */
    private static long count(String digits) {
        return digits.length() > 4 ? 1001 : Long.parseLong(digits);
    }
}
