package io.tessera.api;

/**
 * The request fields completions and chat share, read in one place ({@link RequestReader}). Besides OpenAI's, the
 * accepted extensions: {@code attention}, {@code ignore_eos} and vLLM's {@code top_k}, {@code min_p},
 * {@code repetition_penalty}. Any other field is refused (400 naming it), never ignored.
 */
interface SamplingFields {
    String model();

    Float temperature();

    Float topP();

    Long seed();

    com.fasterxml.jackson.databind.JsonNode stop();

    Float presencePenalty();

    Float frequencyPenalty();

    Integer n();

    Boolean stream();

    StreamOptions streamOptions();

    AttentionSpec attention();

    /** {@link ResponseFormat}. */
    com.fasterxml.jackson.databind.JsonNode responseFormat();

    Boolean ignoreEos();

    Integer topK();

    Float minP();

    Float repetitionPenalty();
}
