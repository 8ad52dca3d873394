package io.tessera.engine.sampling;

import java.util.List;

/**
 * The token chosen by {@link Sampler#sample(float[])}.
 *
 * <p>Logprobs follow vLLM's default: log-softmax of the raw logits after penalties, before temperature, top-k
 * and top-p, so they do not depend on how the token was drawn. They are only computed when the request asked
 * for them; otherwise {@code logprob} is NaN and {@code top} is empty.
 *
 * @param tokenId the chosen token
 * @param logprob its log-probability, or NaN when logprobs were not requested
 * @param top     the {@code topLogprobs} most likely tokens, most likely first (ties: lower id first)
 */
public record SampledToken(int tokenId, float logprob, List<TokenLogprob> top) {

    public SampledToken {
        top = List.copyOf(top);
    }
}
