package io.tessera.service;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.util.Arrays;
import java.util.logging.Logger;

/**
 * A client that closes its connection mid-stream is routine: Inference logs it as one INFO line. The layers below
 * would also log the write that raced with the close: RESTEasy's SSE handler as an ERROR with a stack (a broken pipe,
 * a closed channel), Netty as a WARN that it could not fail the write's promise twice (the first failure: the closed
 * channel). This drops exactly those records, at their loggers, so every handler is spared them.
 */
@ApplicationScoped
public class ClientGoneLog {
    private static final Logger SSE = Logger.getLogger("org.jboss.resteasy.reactive.server.handlers.PublisherResponseHandler");
    private static final Logger NETTY = Logger.getLogger("io.netty.channel.AbstractChannelHandlerContext");
    static final String NETTY_TWICE = "Failed to mark a promise as failure because it has failed already";

    void install(@Observes StartupEvent event) {
        SSE.setFilter(r -> !(r.getThrown() instanceof IOException));
        NETTY.setFilter(r -> !(String.valueOf(r.getMessage()).startsWith(NETTY_TWICE)
                && (r.getMessage() + Arrays.toString(r.getParameters())).contains("ClosedChannelException")));
    }
}
