package io.tessera.adapters;

import io.tessera.engine.DecoderModel;
import io.tessera.engine.Engine;
import io.tessera.engine.EngineOptions;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** The base model opened on first use, one KV slot: for checking uploads only. */
@ApplicationScoped
public class LocalBaseModel implements BaseModel {
    @ConfigProperty(name = "tessera.model", defaultValue = "models/demo-llama")
    Path dir;

    private Engine engine;

    @Override
    public String name() {
        return dir.toAbsolutePath().normalize().getFileName().toString();
    }

    @Override
    public synchronized DecoderModel model() {
        if (engine == null) {
            engine = Engine.open(EngineOptions.of(dir).withMaxSequences(1).withDevice(EngineOptions.Device.CPU));
        }
        return engine.model();
    }

    @PreDestroy
    synchronized void close() {
        if (engine != null) {
            engine.close();
        }
    }
}
