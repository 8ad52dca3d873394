package io.tessera.engine.sampling;

import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Chooses the next token of one sequence from a row of logits.
 *
 * <p>Owns the sequence's RNG and the token statistics the penalties need, so there is one instance per
 * sequence. Not thread-safe: a sequence is decoded by one thread at a time.
 *
 * <p>Memory: scratch arrays of {@code vocabSize} elements are allocated on first need and reused: one float
 * array when penalties or temperature sampling are on, plus one int array of counts when presence or frequency
 * penalties are on. Top-k keeps k floats and top-p a buffer of the candidates it sorts. Plain greedy decoding
 * allocates nothing per token beyond the result.
 */
public final class Sampler {

    /**
     * Top-p buckets key on a probability's exponent and top 4 mantissa bits: the bit patterns of positive floats
     * sort like their values, and one bucket spans a factor of at most 1.0625.
     */
    private static final int BUCKET_SHIFT = 19;
    private static final int BUCKETS = (Float.floatToRawIntBits(1f) >>> BUCKET_SHIFT) + 1;
    private static final int MAX_FLOAT_BITS = Float.floatToRawIntBits(Float.MAX_VALUE);

    private final SamplingParams params;
    private final int vocabSize;
    private final SplittableRandom rng;

    private final boolean repetition;
    private final boolean additive;
    /** Prompt and generated tokens, for the repetition penalty. */
    private final BitSet seen;
    /** Generated tokens and how often each occurred, for presence and frequency penalties. */
    private final BitSet generated;
    private final int[] counts;

    private final int[] topIds;
    private final float[] topValues;
    /** Probability mass per bucket, to find where the nucleus ends without sorting the vocabulary. */
    private final double[] bucketMass;

    /** Penalized logits, then the unnormalized probabilities. */
    private float[] work;
    private float[] kHeap;
    /** Nucleus candidates packed as (descending probability, ascending id) so a primitive sort orders them. */
    private long[] candidates;

    public Sampler(SamplingParams params, int[] promptTokens, int vocabSize) {
        if (vocabSize < 1) {
            throw new IllegalArgumentException("vocabSize must be >= 1, got " + vocabSize);
        }
        this.params = Objects.requireNonNull(params, "params");
        Objects.requireNonNull(promptTokens, "promptTokens");
        this.vocabSize = vocabSize;
        this.rng = params.seed() != null ? new SplittableRandom(params.seed()) : new SplittableRandom();
        this.repetition = params.repetitionPenalty() != 1f;
        this.additive = params.presencePenalty() != 0f || params.frequencyPenalty() != 0f;
        this.seen = repetition ? new BitSet(vocabSize) : null;
        this.generated = additive ? new BitSet(vocabSize) : null;
        this.counts = additive ? new int[vocabSize] : null;
        int n = params.logprobs() ? Math.min(params.topLogprobs(), vocabSize) : 0;
        this.topIds = new int[n];
        this.topValues = new float[n];
        this.bucketMass = params.topP() < 1f ? new double[BUCKETS] : null;
        this.candidates = params.topP() < 1f ? new long[256] : null;
        if (repetition) {
            for (int id : promptTokens) {
                seen.set(checkId(id));
            }
        }
    }

    /**
     * Picks the next token from {@code logits} (the first {@code vocabSize} entries; the array is not modified)
     * and records it for later penalties.
     */
    public SampledToken sample(float[] logits) {
        if (logits.length < vocabSize) {
            throw new IllegalArgumentException(
                    "logits has " + logits.length + " entries, fewer than the vocabulary size " + vocabSize);
        }
        float[] x = logits;
        if (repetition || additive) {
            x = work();
            System.arraycopy(logits, 0, x, 0, vocabSize);
            applyPenalties(x);
        }
        // Before drawing: the draw overwrites the penalized logits with probabilities.
        double logZ = 0;
        List<TokenLogprob> top = List.of();
        if (params.logprobs()) {
            logZ = logSumExp(x);
            top = topLogprobs(x, logZ);
        }
        int token = params.isGreedy() ? argmax(x) : draw(x);
        float logprob = params.logprobs() ? (float) (penalized(logits[token], token) - logZ) : Float.NaN;
        accept(token);
        return new SampledToken(token, logprob, top);
    }

    /** Records a token appended without sampling (e.g. forced) so the penalties see it. */
    public void accept(int tokenId) {
        checkId(tokenId);
        if (repetition) {
            seen.set(tokenId);
        }
        if (additive) {
            generated.set(tokenId);
            counts[tokenId]++;
        }
    }

    private int checkId(int id) {
        if (id < 0 || id >= vocabSize) {
            throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + vocabSize + ")");
        }
        return id;
    }

    private float[] work() {
        if (work == null) {
            work = new float[vocabSize];
        }
        return work;
    }

    // applyPenalties and penalized must do the same float operations in the same order, so that the reported
    // logprob of the chosen token matches the logits it was drawn from.

    private void applyPenalties(float[] x) {
        if (repetition) {
            for (int id = seen.nextSetBit(0); id >= 0; id = seen.nextSetBit(id + 1)) {
                x[id] = repeat(x[id]);
            }
        }
        if (additive) {
            for (int id = generated.nextSetBit(0); id >= 0; id = generated.nextSetBit(id + 1)) {
                x[id] -= additivePenalty(id);
            }
        }
    }

    private float penalized(float logit, int id) {
        float v = logit;
        if (repetition && seen.get(id)) {
            v = repeat(v);
        }
        if (additive && counts[id] > 0) {
            v -= additivePenalty(id);
        }
        return v;
    }

    /** Dividing a negative logit would make the token more likely, hence the sign split (Hugging Face). */
    private float repeat(float logit) {
        float r = params.repetitionPenalty();
        return logit > 0f ? logit / r : logit * r;
    }

    private float additivePenalty(int id) {
        return params.presencePenalty() + params.frequencyPenalty() * counts[id];
    }

    /** NaN never wins; ties go to the lowest id. */
    private int argmax(float[] x) {
        int best = 0;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocabSize; i++) {
            if (x[i] > bestValue) {
                bestValue = x[i];
                best = i;
            }
        }
        return best;
    }

    private float max(float[] x) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocabSize; i++) {
            if (x[i] > m) {
                m = x[i];
            }
        }
        return m;
    }

    /** NaN logits count as impossible tokens. */
    private double logSumExp(float[] x) {
        float m = max(x);
        if (Float.isInfinite(m)) {
            return m;
        }
        double sum = 0;
        for (int i = 0; i < vocabSize; i++) {
            float v = x[i];
            if (v == v) {
                sum += Math.exp((double) v - m);
            }
        }
        return m + Math.log(sum);
    }

    private List<TokenLogprob> topLogprobs(float[] x, double logZ) {
        int n = topIds.length;
        if (n == 0) {
            return List.of();
        }
        // Insertion into a short sorted array: after the first few tokens almost every logit fails the first
        // comparison. Strict comparisons keep the lower id first among ties.
        int size = 0;
        for (int i = 0; i < vocabSize; i++) {
            float v = x[i];
            if (v != v || (size == n && !(v > topValues[n - 1]))) {
                continue;
            }
            int pos = size == n ? n - 1 : size++;
            while (pos > 0 && v > topValues[pos - 1]) {
                topValues[pos] = topValues[pos - 1];
                topIds[pos] = topIds[pos - 1];
                pos--;
            }
            topValues[pos] = v;
            topIds[pos] = i;
        }
        TokenLogprob[] top = new TokenLogprob[size];
        for (int j = 0; j < size; j++) {
            top[j] = new TokenLogprob(topIds[j], (float) (topValues[j] - logZ));
        }
        return List.of(top);
    }

    /** Temperature, top-k, min-p, top-p and a random draw. May overwrite {@code x} when it is the scratch array. */
    private int draw(float[] x) {
        float m = max(x);
        if (Float.isInfinite(m)) {
            // All tokens impossible, or some infinitely likely: nothing to sample from.
            return argmax(x);
        }
        int k = params.topK();
        float floor = k > 0 && k < vocabSize ? kthLargest(x, k) : Float.NEGATIVE_INFINITY;
        // min-p compares with the most likely token, whose weight below is exp(0) = 1
        float minP = params.minP();
        boolean nucleus = bucketMass != null;
        if (nucleus) {
            Arrays.fill(bucketMass, 0);
        }
        double temperature = params.temperature();
        float[] p = work();
        double sum = 0;
        for (int i = 0; i < vocabSize; i++) {
            float v = x[i];
            // Subtracting the max keeps exp in (0, 1]; NaN fails the comparison and gets probability 0.
            float e = v >= floor ? (float) Math.exp(((double) v - m) / temperature) : 0f;
            if (e < minP) {
                e = 0f;
            }
            p[i] = e;
            sum += e;
            if (nucleus) {
                bucketMass[Float.floatToRawIntBits(e) >>> BUCKET_SHIFT] += e;
            }
        }
        return nucleus ? drawFromNucleus(p, sum) : drawFrom(p, sum);
    }

    private int drawFrom(float[] p, double sum) {
        double u = rng.nextDouble() * sum;
        double acc = 0;
        int last = 0;
        for (int i = 0; i < vocabSize; i++) {
            if (p[i] > 0f) {
                acc += p[i];
                last = i;
                if (acc > u) {
                    return i;
                }
            }
        }
        // Rounding left u just above the total.
        return last;
    }

    /**
     * Top-p without sorting the vocabulary. The buckets above the one where the cumulative mass reaches top_p lie
     * wholly inside the nucleus, and the order among nucleus tokens does not matter for the draw, so only that
     * boundary bucket is sorted.
     */
    private int drawFromNucleus(float[] p, double sum) {
        double target = params.topP() * sum;
        int bucket = BUCKETS - 1;
        double above = 0;
        while (bucket > 0 && above + bucketMass[bucket] < target) {
            above += bucketMass[bucket--];
        }
        float upper = Float.intBitsToFloat((bucket + 1) << BUCKET_SHIFT);
        // Bucket 0 also holds the zeros, which are no candidates.
        float lower = Math.max(Float.MIN_VALUE, Float.intBitsToFloat(bucket << BUCKET_SHIFT));
        int n = 0;
        for (int i = 0; i < vocabSize; i++) {
            float e = p[i];
            if (e >= lower && e < upper) {
                if (n == candidates.length) {
                    candidates = Arrays.copyOf(candidates, 2 * n);
                }
                candidates[n++] = ((long) (MAX_FLOAT_BITS - Float.floatToRawIntBits(e)) << 32) | i;
            }
        }
        Arrays.sort(candidates, 0, n);
        // The smallest prefix reaching top_p; if rounding keeps the sum short, the whole bucket.
        int size = n;
        double mass = above;
        for (int j = 0; j < n; j++) {
            mass += probability(candidates[j]);
            if (mass >= target) {
                size = j + 1;
                break;
            }
        }
        double u = rng.nextDouble() * mass;
        double acc = 0;
        int last = -1;
        if (above > 0) {
            for (int i = 0; i < vocabSize; i++) {
                if (p[i] >= upper) {
                    acc += p[i];
                    last = i;
                    if (acc > u) {
                        return i;
                    }
                }
            }
        }
        for (int j = 0; j < size; j++) {
            acc += probability(candidates[j]);
            last = (int) candidates[j];
            if (acc > u) {
                return last;
            }
        }
        // Rounding left u just above the total.
        return last;
    }

    private static float probability(long candidate) {
        return Float.intBitsToFloat(MAX_FLOAT_BITS - (int) (candidate >>> 32));
    }

    /** The k-th largest logit, via a min-heap of the k largest seen so far. */
    private float kthLargest(float[] x, int k) {
        if (kHeap == null) {
            kHeap = new float[k];
        }
        float[] heap = kHeap;
        int size = 0;
        for (int i = 0; i < vocabSize; i++) {
            float v = x[i];
            if (v != v) {
                continue;
            }
            if (size < k) {
                int c = size++;
                while (c > 0 && heap[(c - 1) / 2] > v) {
                    heap[c] = heap[(c - 1) / 2];
                    c = (c - 1) / 2;
                }
                heap[c] = v;
            } else if (v > heap[0]) {
                siftDown(heap, k, v);
            }
        }
        return size < k ? Float.NEGATIVE_INFINITY : heap[0];
    }

    /** Replaces the heap's root with {@code v}. */
    private static void siftDown(float[] heap, int size, float v) {
        int c = 0;
        while (true) {
            int child = 2 * c + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && heap[child + 1] < heap[child]) {
                child++;
            }
            if (!(heap[child] < v)) {
                break;
            }
            heap[c] = heap[child];
            c = child;
        }
        heap[c] = v;
    }
}
