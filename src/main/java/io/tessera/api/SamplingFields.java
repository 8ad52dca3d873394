package io.tessera.api;

/** The request fields completions and chat share, read in one place ({@link RequestReader}). */
interface SamplingFields {
    String model();

    Float temperature();

    Float topP();

    Long seed();

    com.fasterxml.jackson.databind.JsonNode stop();

    Float presencePenalty();

    Float frequencyPenalty();

    Integer n();

    String user();

    Boolean stream();

    StreamOptions streamOptions();

    AttentionSpec attention();

    /** {@link ResponseFormat}. */
    com.fasterxml.jackson.databind.JsonNode responseFormat();

    Boolean ignoreEos();
}
