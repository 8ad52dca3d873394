package io.tessera.api;

/** No base model or adapter of this name for the caller; never answered with the base model instead. */
public class ModelNotFoundException extends RuntimeException {
    public ModelNotFoundException(String model) {
        super("The model `" + model + "` does not exist or you do not have access to it.");
    }
}
