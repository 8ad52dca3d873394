package io.tessera.engine.sampling;

import java.util.List;
import java.util.Objects;

/**
 * Finds stop strings in streamed, decoded text (OpenAI semantics: neither the stop string nor anything after
 * it reaches the client).
 *
 * <p>A stop string can span several pieces, so text that could still turn out to be the start of one is held
 * back until the next piece settles it, or until {@link #flush()} at the end of generation. When several stop
 * strings occur, the one that starts first wins. One instance per sequence; not thread-safe.
 */
public final class StopMatcher {

    /**
     * @param emit    text that can be sent to the client now (may be empty)
     * @param stopped whether a stop string occurred; generation should end
     */
    public record Result(String emit, boolean stopped) {
    }

    private final List<String> stops;
    private final int longest;
    private String pending = "";
    private String matched;

    public StopMatcher(List<String> stops) {
        for (String s : stops) {
            if (s == null || s.isEmpty()) {
                throw new IllegalArgumentException("stop must not contain null or empty strings");
            }
        }
        this.stops = List.copyOf(stops);
        this.longest = this.stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /** Takes the next decoded piece. After a stop, further pieces are dropped. */
    public Result feed(String piece) {
        Objects.requireNonNull(piece, "piece");
        if (matched != null) {
            return new Result("", true);
        }
        // Held-back text never contains a whole stop string, so searching it again finds only new matches.
        String text = pending.concat(piece);
        int cut = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (cut < 0 || i < cut)) {
                cut = i;
                matched = s;
            }
        }
        if (cut >= 0) {
            pending = "";
            return new Result(text.substring(0, cut), true);
        }
        int hold = partialStopLength(text);
        pending = text.substring(text.length() - hold);
        return new Result(text.substring(0, text.length() - hold), false);
    }

    /** At the end of generation: the held-back text, which turned out not to be a stop string. */
    public String flush() {
        String rest = pending;
        pending = "";
        return rest;
    }

    /** The stop string that ended generation (vLLM's stop_reason), or null while none has occurred. */
    public String matchedStop() {
        return matched;
    }

    /** Length of the longest suffix of {@code text} that is a proper prefix of some stop string. */
    private int partialStopLength(String text) {
        for (int k = Math.min(text.length(), longest - 1); k > 0; k--) {
            int from = text.length() - k;
            for (String s : stops) {
                if (s.length() > k && text.regionMatches(from, s, 0, k)) {
                    return k;
                }
            }
        }
        return 0;
    }
}
