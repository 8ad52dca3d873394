package io.tessera.api;

import io.tessera.config.TesseraConfig;
import io.tessera.util.CountingInputStream;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import java.io.InputStream;
import java.util.List;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Inference bodies have their own size limit, far below the HTTP server's (which admin uploads need): a declared
 * length over {@code tessera.api.max-request-bytes} is refused before reading, and a body sent in chunks is counted
 * as the endpoint reads it (these endpoints are blocking: the body streams to them rather than being buffered first)
 * and refused once it passes the limit.
 */
public class RequestSizeLimit {
    static final List<String> PATHS = List.of("/v1/completions", "/v1/chat/completions");

    @Inject
    TesseraConfig config;

    /** A body over the limit. */
    public static final class TooLargeException extends RuntimeException {
        TooLargeException(long limit) {
            super("the request body exceeds this server's limit of " + limit + " bytes (tessera.api.max-request-bytes)");
        }
    }

    @ServerRequestFilter
    public void limit(ContainerRequestContext request) {
        if (!PATHS.contains(request.getUriInfo().getPath())) {
            return;
        }
        long limit = config.api().maxRequestBytes();
        String declared = request.getHeaderString(HttpHeaders.CONTENT_LENGTH);
        // digits only, and at most 18 of them before parsing: a longer number is past any limit anyway
        if (declared != null && !declared.isEmpty() && declared.chars().allMatch(c -> c >= '0' && c <= '9')
                && (declared.length() > 18 || Long.parseLong(declared) > limit)) {
            throw new TooLargeException(limit);
        }
        request.setEntityStream(new Counted(request.getEntityStream(), limit));
    }

    /** Throws once more than {@code limit} bytes have been read. */
    private static final class Counted extends CountingInputStream {
        private final long limit;

        Counted(InputStream in, long limit) {
            super(in);
            this.limit = limit;
        }

        @Override
        protected void counted(long total) {
            if (total > limit) {
                throw new TooLargeException(limit);
            }
        }
    }
}
