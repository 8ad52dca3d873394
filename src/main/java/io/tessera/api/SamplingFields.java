package io.tessera.api;

/**
 * The request fields completions and chat share, read in one place ({@link RequestReader}). Besides OpenAI's, the
 * accepted extensions: {@code attention}, {@code ignore_eos} and vLLM's {@code top_k}, {@code min_p},
 * {@code repetition_penalty}. Any other field is refused (400 naming it), never ignored.
 */
interface SamplingFields {
    // the OpenAPI descriptions of the fields both requests document alike
    String RESPONSE_FORMAT = "text, json_object, or json_schema with a schema of the supported keywords (see the README); "
            + "the output is guaranteed by constrained decoding";
    String IGNORE_EOS = "Extension (as vLLM): keep generating past end-of-sequence";
    String TOP_K = "Extension (as vLLM): sample from the k most likely tokens; 0 or -1 = off";
    String MIN_P = "Extension (as vLLM): drop tokens less likely than min_p times the most likely one (after temperature); "
            + "in [0, 1], 0 = off";
    String REPETITION_PENALTY = "Extension (as vLLM, Hugging Face semantics over prompt and output tokens): > 1 discourages "
            + "repeats; 1 = off";

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
