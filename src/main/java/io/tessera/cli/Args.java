package io.tessera.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/** --name value options, --flag switches and positional arguments. */
final class Args {
    final Map<String, String> options = new HashMap<>();
    final List<String> positional = new ArrayList<>();

    static Args parse(String[] argv, int from, Set<String> flags) {
        Args a = new Args();
        for (int i = from; i < argv.length; i++) {
            String s = argv[i];
            if (s.startsWith("--")) {
                String name = s.substring(2);
                if (flags.contains(name)) {
                    a.options.put(name, "true");
                } else if (i + 1 < argv.length) {
                    a.options.put(name, argv[++i]);
                } else {
                    throw new UsageException("--" + name + " needs a value");
                }
            } else {
                a.positional.add(s);
            }
        }
        return a;
    }

    String get(String name, String fallback) {
        return options.getOrDefault(name, fallback);
    }

    String require(String name) {
        String v = options.get(name);
        if (v == null) {
            throw new UsageException("--" + name + " is required");
        }
        return v;
    }

    int getInt(String name, int fallback) {
        return parse(name, fallback, Integer::valueOf, "an integer");
    }

    long getLong(String name, long fallback) {
        return parse(name, fallback, Long::valueOf, "an integer");
    }

    float getFloat(String name, float fallback) {
        return parse(name, fallback, Float::valueOf, "a number");
    }

    private <T> T parse(String name, T fallback, Function<String, T> parser, String what) {
        String v = options.get(name);
        try {
            return v == null ? fallback : parser.apply(v);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be " + what + " (got " + v + ")");
        }
    }

    boolean flag(String name) {
        return options.containsKey(name);
    }

    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }
}
