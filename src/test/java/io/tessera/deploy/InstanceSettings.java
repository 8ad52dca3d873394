package io.tessera.deploy;

import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What a service instance of the integration tests needs besides its port and model. */
final class InstanceSettings {
    private InstanceSettings() {
    }

    /** System properties for one instance working in {@code work}. */
    static List<String> systemProperties(Path root, Path work) {
        return new ArrayList<>();
    }

    /** Adds the credentials the API asks for, if any. */
    static void authorize(HttpRequest.Builder request) {
    }
}
