package io.tessera.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

class SamplerTest {

    private static final int[] NO_PROMPT = {};

    private static float[] logOf(double... probabilities) {
        float[] logits = new float[probabilities.length];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) Math.log(probabilities[i]);
        }
        return logits;
    }

    private static Sampler sampler(SamplingParams params, int vocabSize) {
        return new Sampler(params, NO_PROMPT, vocabSize);
    }

    private static SamplingParams.Builder seeded() {
        return SamplingParams.builder().seed(1234L).maxTokens(100);
    }

    private static double[] frequencies(Sampler sampler, float[] logits, int vocabSize, int draws) {
        double[] freq = new double[vocabSize];
        for (int i = 0; i < draws; i++) {
            freq[sampler.sample(logits).tokenId()] += 1.0 / draws;
        }
        return freq;
    }

    private static void assertLogprobs(List<TokenLogprob> top, float... expected) {
        assertThat(top).hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) {
            assertThat(top.get(i).logprob()).isCloseTo(expected[i], within(1e-5f));
        }
    }

    private static Set<Integer> drawn(Sampler sampler, float[] logits, int draws) {
        Set<Integer> tokens = new TreeSet<>();
        for (int i = 0; i < draws; i++) {
            tokens.add(sampler.sample(logits).tokenId());
        }
        return tokens;
    }

    // --- greedy ---

    @Test
    void greedyPicksTheArgmax() {
        Sampler s = sampler(SamplingParams.greedy(10), 4);

        assertThat(s.sample(new float[] {0.5f, -1f, 3.25f, 3f}).tokenId()).isEqualTo(2);
    }

    @Test
    void greedyTieGoesToTheLowestId() {
        Sampler s = sampler(SamplingParams.greedy(10), 4);

        assertThat(s.sample(new float[] {1f, 7f, 2f, 7f}).tokenId()).isEqualTo(1);
    }

    @Test
    void onlyTheFirstVocabSizeLogitsCount() {
        float[] logits = {0f, 1f, 2f, 9f};

        assertThat(sampler(SamplingParams.greedy(10), 3).sample(logits).tokenId()).isEqualTo(2);
        assertThat(drawn(sampler(seeded().build(), 3), logits, 500)).containsExactly(0, 1, 2);
    }

    @Test
    void nanLogitsAreNeverChosen() {
        float[] logits = {Float.NaN, 1f, 0f};

        assertThat(sampler(SamplingParams.greedy(10), 3).sample(logits).tokenId()).isEqualTo(1);
        assertThat(drawn(sampler(seeded().build(), 3), logits, 500)).containsExactly(1, 2);
    }

    // --- temperature ---

    @Test
    void sameSeedGivesTheSameTokensAndAnotherSeedDiffers() {
        float[] uniform = new float[50];

        int[] a = new int[100];
        int[] b = new int[100];
        int[] c = new int[100];
        Sampler sa = sampler(seeded().seed(42L).build(), 50);
        Sampler sb = sampler(seeded().seed(42L).build(), 50);
        Sampler sc = sampler(seeded().seed(43L).build(), 50);
        for (int i = 0; i < a.length; i++) {
            a[i] = sa.sample(uniform).tokenId();
            b[i] = sb.sample(uniform).tokenId();
            c[i] = sc.sample(uniform).tokenId();
        }

        assertThat(b).containsExactly(a);
        assertThat(c).isNotEqualTo(a);
    }

    @Test
    void drawsFollowTheSoftmax() {
        double[] freq = frequencies(sampler(seeded().build(), 3), logOf(0.2, 0.3, 0.5), 3, 20_000);

        assertThat(freq[0]).isCloseTo(0.2, within(0.015));
        assertThat(freq[1]).isCloseTo(0.3, within(0.015));
        assertThat(freq[2]).isCloseTo(0.5, within(0.015));
    }

    @Test
    void temperatureSharpensTheDistribution() {
        // T = 0.5 squares the probabilities: 0.04, 0.09, 0.25 over 0.38.
        double[] freq = frequencies(sampler(seeded().temperature(0.5f).build(), 3), logOf(0.2, 0.3, 0.5), 3, 20_000);

        assertThat(freq[0]).isCloseTo(0.04 / 0.38, within(0.015));
        assertThat(freq[1]).isCloseTo(0.09 / 0.38, within(0.015));
        assertThat(freq[2]).isCloseTo(0.25 / 0.38, within(0.015));
    }

    @Test
    void impossibleTokensAreNeverDrawn() {
        float[] logits = {Float.NEGATIVE_INFINITY, 0f, Float.NEGATIVE_INFINITY};

        assertThat(drawn(sampler(seeded().build(), 3), logits, 200)).containsExactly(1);
    }

    // --- top-k ---

    @Test
    void topKTwoNeverYieldsTheThirdToken() {
        // Token 0 is the third most likely; the kept two are renormalized: e^2 : e^1.5.
        float[] logits = {1f, 2f, 1.5f};
        double[] freq = frequencies(sampler(seeded().topK(2).build(), 3), logits, 3, 20_000);

        double keep1 = Math.exp(2) / (Math.exp(2) + Math.exp(1.5));
        assertThat(freq[0]).isZero();
        assertThat(freq[1]).isCloseTo(keep1, within(0.015));
        assertThat(freq[2]).isCloseTo(1 - keep1, within(0.015));
    }

    // --- min-p ---

    @Test
    void minPDropsTokensLessThanThatFractionOfTheLikeliest() {
        // probabilities 0.5, 0.3, 0.2: min_p 0.5 keeps 0.5 and 0.3 (>= 0.25), renormalized 5 : 3
        float[] logits = logOf(0.5, 0.3, 0.2);
        double[] freq = frequencies(sampler(seeded().minP(0.5f).build(), 3), logits, 3, 20_000);

        assertThat(freq[2]).isZero();
        assertThat(freq[0]).isCloseTo(5 / 8.0, within(0.015));
        // after temperature: at 0.5 the probabilities square (0.25 : 0.09 : 0.04), and 0.09 < 0.5 * 0.25
        assertThat(drawn(sampler(seeded().temperature(0.5f).minP(0.5f).build(), 3), logits, 1000)).containsExactly(0);
    }

    @Test
    void topKKeepsTiesWithTheKthLogit() {
        // As in Hugging Face and vLLM: everything >= the k-th largest logit survives.
        assertThat(drawn(sampler(seeded().topK(2).build(), 4), new float[] {2f, 1f, 1f, 0f}, 1000))
                .containsExactly(0, 1, 2);
    }

    @Test
    void topKOnALargeVocabularyKeepsOnlyTheKBest() {
        int vocab = 5000;
        Random random = new Random(7);
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            logits[i] = (float) random.nextGaussian();
        }
        Set<Integer> best = IntStream.range(0, vocab).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -logits[i]))
                .limit(20).collect(Collectors.toSet());

        Set<Integer> seen = drawn(sampler(seeded().topK(20).temperature(2f).build(), vocab), logits, 2000);

        assertThat(best).containsAll(seen);
        assertThat(seen).hasSizeGreaterThan(15);
    }

    // --- top-p ---

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        float[] logits = logOf(0.1, 0.5, 0.3, 0.1);

        // 0.5 < 0.75 <= 0.5 + 0.3: the nucleus is {1, 2}, renormalized to 0.625 / 0.375.
        double[] freq = frequencies(sampler(seeded().topP(0.75f).build(), 4), logits, 4, 20_000);
        assertThat(freq[0]).isZero();
        assertThat(freq[3]).isZero();
        assertThat(freq[1]).isCloseTo(0.625, within(0.015));
        assertThat(freq[2]).isCloseTo(0.375, within(0.015));

        // A single token reaching p is enough.
        assertThat(drawn(sampler(seeded().topP(0.4f).build(), 4), logits, 1000)).containsExactly(1);
        // 0.8 < 0.85: one of the two 0.1 tokens joins, the lower id.
        assertThat(drawn(sampler(seeded().topP(0.85f).build(), 4), logits, 2000)).containsExactly(0, 1, 2);
    }

    @Test
    void topPAppliesToTheTopKRenormalizedDistribution() {
        // Top-2 leaves {1: 0.625, 2: 0.375}; 0.625 alone reaches 0.6.
        SamplingParams params = seeded().topK(2).topP(0.6f).build();

        assertThat(drawn(sampler(params, 4), logOf(0.1, 0.5, 0.3, 0.1), 1000)).containsExactly(1);
    }

    @Test
    void topPOnALargeVocabularyMatchesAFullSort() {
        int vocab = 1000;
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            logits[i] = -0.01f * i;
        }
        // Logits decrease with the id, so the nucleus is a prefix [0, n).
        double total = 0;
        for (float l : logits) {
            total += Math.exp(l);
        }
        int n = 0;
        for (double cumulative = 0; cumulative < 0.9 * total; n++) {
            cumulative += Math.exp(logits[n]);
        }

        Set<Integer> seen = drawn(sampler(seeded().topP(0.9f).build(), vocab), logits, 20_000);

        assertThat(n).isEqualTo(231);
        assertThat(((TreeSet<Integer>) seen).last()).isEqualTo(n - 1);
    }

    @Test
    void topPOnShuffledLogitsDrawsExactlyTheNucleus() {
        int vocab = 300;
        Random random = new Random(11);
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            logits[i] = (float) random.nextGaussian();
        }
        Integer[] order = IntStream.range(0, vocab).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -logits[i])).toArray(Integer[]::new);
        double total = 0;
        for (float l : logits) {
            total += Math.exp(l);
        }
        Set<Integer> nucleus = new TreeSet<>();
        for (double cumulative = 0; cumulative < 0.5 * total; ) {
            int id = order[nucleus.size()];
            nucleus.add(id);
            cumulative += Math.exp(logits[id]);
        }

        Set<Integer> seen = drawn(sampler(seeded().topP(0.5f).build(), vocab), logits, 20_000);

        assertThat(seen).isEqualTo(nucleus);
    }

    // --- penalties ---

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        // Prompt tokens 0 and 2, r = 2: {2, 1.5, -1, -1.2} -> {1, 1.5, -2, -1.2}.
        SamplingParams params = SamplingParams.builder().temperature(0f).repetitionPenalty(2f)
                .logprobs(true).topLogprobs(4).build();
        Sampler s = new Sampler(params, new int[] {0, 2}, 4);

        SampledToken t = s.sample(new float[] {2f, 1.5f, -1f, -1.2f});

        assertThat(t.tokenId()).isEqualTo(1);
        assertThat(t.top()).extracting(TokenLogprob::tokenId).containsExactly(1, 0, 3, 2);
        assertLogprobs(t.top(), -0.5329394f, -1.0329394f, -3.2329394f, -4.0329394f);
    }

    @Test
    void repetitionPenaltyCoversGeneratedTokens() {
        Sampler s = sampler(SamplingParams.greedy(10).toBuilder().repetitionPenalty(2f).build(), 3);
        float[] logits = {2f, 1.5f, 0f};

        // 0 (2), then 0 drops to 1 < 1.5, then 1 drops to 0.75 < 1.
        assertThat(IntStream.range(0, 3).map(i -> s.sample(logits).tokenId())).containsExactly(0, 1, 0);
    }

    @Test
    void presencePenaltyChangesTheArgmax() {
        float[] logits = {3f, 2.5f, 0f};
        Sampler s = sampler(SamplingParams.greedy(10).toBuilder().presencePenalty(0.6f).build(), 3);

        s.accept(0);
        // 3 - 0.6 = 2.4 < 2.5.
        assertThat(s.sample(logits).tokenId()).isEqualTo(1);
    }

    @Test
    void presencePenaltyCountsATokenOnce() {
        float[] logits = {3f, 2.5f, 0f};
        Sampler s = sampler(SamplingParams.greedy(10).toBuilder().presencePenalty(0.4f).build(), 3);

        s.accept(0);
        s.accept(0);
        s.accept(0);
        // 3 - 0.4 = 2.6 > 2.5.
        assertThat(s.sample(logits).tokenId()).isZero();
    }

    @Test
    void frequencyPenaltyGrowsWithEachOccurrence() {
        float[] logits = {3f, 2.5f, 0f};
        Sampler s = sampler(SamplingParams.greedy(10).toBuilder().frequencyPenalty(0.3f).build(), 3);

        s.accept(0);
        // 3 - 0.3 = 2.7 > 2.5.
        assertThat(s.sample(new float[] {3f, 2.5f, 0f}).tokenId()).isZero();
        // That sample was token 0 again: 3 - 0.6 = 2.4 < 2.5.
        assertThat(s.sample(logits).tokenId()).isEqualTo(1);
    }

    @Test
    void presenceAndFrequencyAddUp() {
        float[] logits = {3f, 2.5f, 0f};
        SamplingParams params = SamplingParams.greedy(10).toBuilder()
                .presencePenalty(0.2f).frequencyPenalty(0.2f).logprobs(true).build();
        Sampler s = sampler(params, 3);

        s.accept(0);
        // 3 - 0.2 - 0.2 = 2.6.
        assertThat(s.sample(logits).tokenId()).isZero();
        // 3 - 0.2 - 2 * 0.2 = 2.4; the logprob is that of the penalized logits {2.4, 2.5, 0}.
        SampledToken t = s.sample(logits);
        assertThat(t.tokenId()).isEqualTo(1);
        assertThat(t.logprob()).isCloseTo(-0.6865869f, within(1e-5f));
    }

    @Test
    void presenceAndFrequencyIgnoreThePrompt() {
        SamplingParams params = SamplingParams.greedy(10).toBuilder().presencePenalty(2f).frequencyPenalty(2f).build();

        assertThat(new Sampler(params, new int[] {0, 0}, 3).sample(new float[] {3f, 2.5f, 0f}).tokenId()).isZero();
    }

    @Test
    void theCallersLogitsAreLeftAlone() {
        float[] logits = {1f, 2f, 3f, -1f};
        float[] copy = logits.clone();
        SamplingParams params = seeded().repetitionPenalty(1.5f).presencePenalty(0.5f).topK(3).topP(0.9f)
                .logprobs(true).topLogprobs(2).build();
        Sampler s = new Sampler(params, new int[] {1, 3}, 4);

        for (int i = 0; i < 20; i++) {
            s.sample(logits);
        }

        assertThat(logits).containsExactly(copy);
    }

    // --- logprobs ---

    @Test
    void logprobsAreTheLogSoftmax() {
        SamplingParams params = SamplingParams.greedy(10).toBuilder().logprobs(true).topLogprobs(2).build();

        SampledToken t = sampler(params, 3).sample(new float[] {1f, 2f, 3f});

        // log(e + e^2 + e^3) = 3.4076060
        assertThat(t.tokenId()).isEqualTo(2);
        assertThat(t.logprob()).isCloseTo(-0.4076060f, within(1e-5f));
        assertThat(t.top()).extracting(TokenLogprob::tokenId).containsExactly(2, 1);
        assertThat(t.top().get(0).logprob()).isCloseTo(-0.4076060f, within(1e-5f));
        assertThat(t.top().get(1).logprob()).isCloseTo(-1.4076060f, within(1e-5f));
    }

    @Test
    void logprobsIgnoreTemperatureTopKAndTopP() {
        float[] expected = {-2.4076060f, -1.4076060f, -0.4076060f};
        SamplingParams params = seeded().temperature(0.5f).topK(2).topP(0.9f).logprobs(true).topLogprobs(3).build();
        Sampler s = sampler(params, 3);

        for (int i = 0; i < 20; i++) {
            SampledToken t = s.sample(new float[] {1f, 2f, 3f});
            assertThat(t.logprob()).isCloseTo(expected[t.tokenId()], within(1e-5f));
            assertThat(t.top()).extracting(TokenLogprob::tokenId).containsExactly(2, 1, 0);
        }
    }

    @Test
    void topLogprobTiesKeepTheLowerIdFirst() {
        SamplingParams params = SamplingParams.greedy(10).toBuilder().logprobs(true).topLogprobs(3).build();

        SampledToken t = sampler(params, 4).sample(new float[] {1f, 3f, 3f, 0f});

        assertThat(t.top()).extracting(TokenLogprob::tokenId).containsExactly(1, 2, 0);
        assertLogprobs(t.top(), -0.7816718f, -0.7816718f, -2.7816718f);
    }

    @Test
    void topLogprobsMatchAFullSortOnALargeVocabulary() {
        int vocab = 1000;
        Random random = new Random(3);
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            logits[i] = (float) (4 * random.nextGaussian());
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        double logZ = max + Math.log(sum);
        Integer[] order = IntStream.range(0, vocab).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -logits[i])).toArray(Integer[]::new);

        SamplingParams params = seeded().logprobs(true).topLogprobs(20).build();
        SampledToken t = sampler(params, vocab).sample(logits);

        assertThat(t.top()).extracting(TokenLogprob::tokenId).containsExactly(Arrays.copyOf(order, 20));
        for (TokenLogprob lp : t.top()) {
            assertThat((double) lp.logprob()).isCloseTo(logits[lp.tokenId()] - logZ, within(1e-5));
        }
        assertThat((double) t.logprob()).isCloseTo(logits[t.tokenId()] - logZ, within(1e-5));
    }

    @Test
    void noLogprobsUnlessRequested() {
        SampledToken t = sampler(SamplingParams.greedy(10), 3).sample(new float[] {1f, 2f, 3f});

        assertThat(t.logprob()).isNaN();
        assertThat(t.top()).isEmpty();

        SamplingParams zeroTop = SamplingParams.greedy(10).toBuilder().logprobs(true).topLogprobs(0).build();
        SampledToken u = sampler(zeroTop, 3).sample(new float[] {1f, 2f, 3f});
        assertThat(u.logprob()).isCloseTo(-0.4076060f, within(1e-5f));
        assertThat(u.top()).isEqualTo(List.of());
    }

    // --- argument checks ---

    @Test
    void rejectsTooFewLogitsAndOutOfVocabularyTokens() {
        Sampler s = sampler(SamplingParams.greedy(10), 3);

        assertThatThrownBy(() -> s.sample(new float[2])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> s.accept(3)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> s.accept(-1)).isInstanceOf(IllegalArgumentException.class);
        SamplingParams repeating = SamplingParams.greedy(10).toBuilder().repetitionPenalty(1.2f).build();
        assertThatThrownBy(() -> new Sampler(repeating, new int[] {5}, 3)).isInstanceOf(IllegalArgumentException.class);
    }
}
