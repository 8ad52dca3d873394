package io.tessera.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class StopMatcherTest {

    private static List<StopMatcher.Result> feedAll(StopMatcher m, String... pieces) {
        List<StopMatcher.Result> results = new ArrayList<>();
        for (String piece : pieces) {
            results.add(m.feed(piece));
        }
        return results;
    }

    private static StopMatcher.Result result(String emit, boolean stopped) {
        return new StopMatcher.Result(emit, stopped);
    }

    @Test
    void withoutStopsEverythingIsEmittedAtOnce() {
        StopMatcher m = new StopMatcher(List.of());

        assertThat(feedAll(m, "Hello", " world")).containsExactly(result("Hello", false), result(" world", false));
        assertThat(m.flush()).isEmpty();
        assertThat(m.matchedStop()).isNull();
    }

    @Test
    void stopInsideOnePieceCutsBeforeIt() {
        StopMatcher m = new StopMatcher(List.of("END"));

        assertThat(m.feed("Hello END world")).isEqualTo(result("Hello ", true));
        assertThat(m.matchedStop()).isEqualTo("END");
    }

    @Test
    void stopAcrossPieceBoundaries() {
        StopMatcher m = new StopMatcher(List.of("END"));

        assertThat(feedAll(m, "Hel", "lo E", "N", "D more")).containsExactly(
                result("Hel", false),
                result("lo ", false), // "E" could start "END"
                result("", false), // "EN" still could
                result("", true));
        assertThat(m.flush()).isEmpty();
    }

    @Test
    void heldBackTextIsReleasedWhenItStopsMatching() {
        StopMatcher m = new StopMatcher(List.of("END"));

        assertThat(feedAll(m, "ab E", "Xyz")).containsExactly(result("ab ", false), result("EXyz", false));
    }

    @Test
    void flushReleasesAPartialPrefixAtTheEnd() {
        StopMatcher m = new StopMatcher(List.of("END"));

        assertThat(m.feed("The EN")).isEqualTo(result("The ", false));
        assertThat(m.flush()).isEqualTo("EN");
        assertThat(m.flush()).isEmpty();
    }

    @Test
    void theEarliestOfSeveralStopsWins() {
        StopMatcher m = new StopMatcher(List.of("\n\n", "###"));

        assertThat(m.feed("a###b\n\nc")).isEqualTo(result("a", true));
        assertThat(m.matchedStop()).isEqualTo("###");

        StopMatcher n = new StopMatcher(List.of("world", "o"));
        assertThat(n.feed("hello world")).isEqualTo(result("hell", true));
        assertThat(n.matchedStop()).isEqualTo("o");
    }

    @Test
    void holdsTheLongestPrefixOfAnyStop() {
        StopMatcher m = new StopMatcher(List.of("xyz", "<|end|>"));

        assertThat(feedAll(m, "a<|e", "nd", "|> tail")).containsExactly(
                result("a", false), result("", false), result("", true));
        assertThat(m.matchedStop()).isEqualTo("<|end|>");
    }

    @Test
    void overlappingRepeatsAreMatched() {
        StopMatcher m = new StopMatcher(List.of("aab"));

        assertThat(feedAll(m, "a", "a", "a", "b")).containsExactly(
                result("", false), result("", false), result("a", false), result("", true));
    }

    @Test
    void afterAStopNothingMoreIsEmitted() {
        StopMatcher m = new StopMatcher(List.of("."));

        assertThat(m.feed("Done. And")).isEqualTo(result("Done", true));
        assertThat(m.feed(" more")).isEqualTo(result("", true));
        assertThat(m.flush()).isEmpty();
    }

    @Test
    void emptyStopStringsAreRejected() {
        assertThatThrownBy(() -> new StopMatcher(List.of("")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("stop ");
    }
}
