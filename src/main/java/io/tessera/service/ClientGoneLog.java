package io.tessera.service;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.util.logging.Logger;

/**
 * A client that closes its connection mid-stream is routine: Inference logs it as one INFO line. RESTEasy's SSE
 * handler would also log the write that raced with the close (a broken pipe, a closed channel) as an ERROR with a
 * stack; this drops exactly those records, at the logger, so every handler is spared them.
 */
@ApplicationScoped
public class ClientGoneLog {
    private static final Logger SSE = Logger.getLogger("org.jboss.resteasy.reactive.server.handlers.PublisherResponseHandler");

    void install(@Observes StartupEvent event) {
        SSE.setFilter(r -> !(r.getThrown() instanceof IOException));
    }
}
