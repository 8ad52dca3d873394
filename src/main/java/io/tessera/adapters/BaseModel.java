package io.tessera.adapters;

import io.tessera.engine.DecoderModel;

/** The resident base model uploads are checked against. */
public interface BaseModel {
    /** The model's name for clients (its directory's name); also recorded on every adapter. */
    String name();

    /** Fails with {@link RegistryException} (UNAVAILABLE) while the model is still loading. */
    DecoderModel model();
}
