package io.tessera.engine;

/** How a sequence attends to its past. Chosen per sequence; sequences with different policies share a step. */
public sealed interface AttentionPolicy {

    /** Every earlier token, with the KV cache growing with the text (bounded by the trained length). */
    record Full() implements AttentionPolicy {
    }

    /**
     * LM-Infinite's Lambda-shaped attention: the first {@code nGlobal} tokens plus the last {@code nLocal},
     * with the distance seen by global keys capped at {@code maxDistance}. The KV cache holds G + L entries.
     */
    record LmInfinite(int nGlobal, int nLocal, int maxDistance) implements AttentionPolicy {
        public LmInfinite {
            if (nGlobal < 0 || nLocal < 1 || maxDistance < 1) {
                throw new IllegalArgumentException("lm-infinite needs n_global >= 0, n_local >= 1, max_distance >= 1");
            }
        }

        /** In {@code long}: two ints from a request may sum past {@link Integer#MAX_VALUE}. */
        public long cacheEntries() {
            return (long) nGlobal + nLocal;
        }
    }

    AttentionPolicy FULL = new Full();

    static LmInfinite lmInfiniteDefaults(ModelConfig config) {
        return new LmInfinite(8, config.maxPositionEmbeddings(), config.maxPositionEmbeddings());
    }

    /** {@code full}, {@code lm-infinite} (model defaults) or {@code lm-infinite:G,L,D}. */
    static AttentionPolicy parse(String spec, ModelConfig config) {
        if (spec == null || spec.equals("full")) {
            return FULL;
        }
        if (spec.equals("lm-infinite")) {
            return lmInfiniteDefaults(config);
        }
        if (spec.startsWith("lm-infinite:")) {
            String[] p = spec.substring("lm-infinite:".length()).split(",");
            if (p.length == 3) {
                try {
                    return new LmInfinite(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()), Integer.parseInt(p[2].trim()));
                } catch (NumberFormatException e) {
                    // fall through to the error below
                }
            }
        }
        throw new IllegalArgumentException("attention must be full, lm-infinite or lm-infinite:G,L,D (got " + spec + ")");
    }
}
