package io.tessera.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SamplingParamsTest {

    @Test
    void greedyTurnsEverythingElseOff() {
        SamplingParams p = SamplingParams.greedy(32);

        assertThat(p.temperature()).isZero();
        assertThat(p.maxTokens()).isEqualTo(32);
        assertThat(p.topP()).isEqualTo(1f);
        assertThat(p.topK()).isZero();
        assertThat(p.seed()).isNull();
        assertThat(p.stop()).isEmpty();
        assertThat(p.stopTokenIds()).isEmpty();
        assertThat(p.presencePenalty()).isZero();
        assertThat(p.frequencyPenalty()).isZero();
        assertThat(p.repetitionPenalty()).isEqualTo(1f);
        assertThat(p.logprobs()).isFalse();
        assertThat(p.topLogprobs()).isZero();
        assertThat(p.ignoreEos()).isFalse();
        assertThat(p.isGreedy()).isTrue();
    }

    @Test
    void builderStartsFromOpenAiDefaults() {
        SamplingParams p = SamplingParams.builder().build();

        assertThat(p.temperature()).isEqualTo(1f);
        assertThat(p.maxTokens()).isEqualTo(16);
        assertThat(p.isGreedy()).isFalse();
    }

    @Test
    void topKOfOneIsGreedy() {
        assertThat(SamplingParams.builder().temperature(0.7f).topK(1).build().isGreedy()).isTrue();
        assertThat(SamplingParams.builder().temperature(0.7f).topK(2).build().isGreedy()).isFalse();
    }

    @Test
    void toBuilderRoundTrips() {
        SamplingParams p = SamplingParams.builder()
                .temperature(0.3f).topP(0.9f).topK(40).seed(7L).maxTokens(100)
                .stop(List.of("###")).stopTokenIds(Set.of(2))
                .presencePenalty(0.5f).frequencyPenalty(-0.5f).repetitionPenalty(1.1f)
                .logprobs(true).topLogprobs(5).ignoreEos(true)
                .build();

        assertThat(p.toBuilder().build()).isEqualTo(p);
        assertThat(p.toBuilder().seed(8L).build().seed()).isEqualTo(8L);
    }

    @Test
    void boundaryValuesAreAccepted() {
        SamplingParams p = SamplingParams.builder()
                .temperature(2f).topP(1f).presencePenalty(-2f).frequencyPenalty(2f)
                .repetitionPenalty(0.5f).topLogprobs(20).maxTokens(1)
                .build();

        assertThat(p.topLogprobs()).isEqualTo(20);
    }

    @Test
    void collectionsAreCopiedAndNullMeansEmpty() {
        List<String> stops = new ArrayList<>(List.of("a"));
        SamplingParams p = SamplingParams.builder().stop(stops).stopTokenIds(null).build();
        stops.add("b");

        assertThat(p.stop()).containsExactly("a");
        assertThat(p.stopTokenIds()).isEmpty();
        assertThat(SamplingParams.builder().stop(null).build().stop()).isEmpty();
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                invalid("temperature", b -> b.temperature(-0.1f)),
                invalid("temperature", b -> b.temperature(2.01f)),
                invalid("temperature", b -> b.temperature(Float.NaN)),
                invalid("top_p", b -> b.topP(0f)),
                invalid("top_p", b -> b.topP(1.01f)),
                invalid("top_k", b -> b.topK(-1)),
                invalid("min_p", b -> b.minP(-0.1f)),
                invalid("min_p", b -> b.minP(1.5f)),
                invalid("min_p", b -> b.minP(Float.NaN)),
                invalid("presence_penalty", b -> b.presencePenalty(-2.1f)),
                invalid("presence_penalty", b -> b.presencePenalty(2.1f)),
                invalid("frequency_penalty", b -> b.frequencyPenalty(3f)),
                invalid("repetition_penalty", b -> b.repetitionPenalty(0f)),
                invalid("repetition_penalty", b -> b.repetitionPenalty(-1f)),
                invalid("repetition_penalty", b -> b.repetitionPenalty(Float.POSITIVE_INFINITY)),
                invalid("max_tokens", b -> b.maxTokens(0)),
                invalid("top_logprobs", b -> b.topLogprobs(-1)),
                invalid("top_logprobs", b -> b.topLogprobs(21)),
                invalid("stop", b -> b.stop(List.of("ok", ""))),
                invalid("stop_token_ids", b -> b.stopTokenIds(Set.of(-1))));
    }

    private static Arguments invalid(String field, UnaryOperator<SamplingParams.Builder> change) {
        return Arguments.of(field, change);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void validationMessageNamesTheField(String field, UnaryOperator<SamplingParams.Builder> change) {
        assertThatThrownBy(() -> change.apply(SamplingParams.builder()).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(field + " ");
    }
}
