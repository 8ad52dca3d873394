package io.tessera.service;

import io.tessera.adapters.BaseModel;
import io.tessera.config.TesseraConfig;
import io.tessera.engine.DecoderModel;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** Uploads are checked against the model being served (503 while it loads). */
@ApplicationScoped
public class ServedBaseModel implements BaseModel {
    @Inject
    TesseraConfig config;
    @Inject
    ServingState state;

    @Override
    public String name() {
        return config.model().toAbsolutePath().normalize().getFileName().toString();
    }

    @Override
    public DecoderModel model() {
        return state.host().engine().model();
    }
}
