package io.tessera.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.api.ErrorResponse.ErrorDetail;
import io.tessera.config.TesseraConfig;
import io.tessera.service.ServiceMetrics;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.List;

/**
 * Inference bodies have their own size limit, far below the HTTP server's (which admin uploads need): the body is
 * read here, before the REST layer, and refused with 413 once it passes {@code tessera.api.max-request-bytes},
 * whether the client declared its length or sends it in chunks. The REST layer then reads the body read here.
 */
@ApplicationScoped
public class RequestSizeLimit {
    static final List<String> PATHS = List.of("/v1/completions", "/v1/chat/completions");
    /** Before the REST layer's route. */
    private static final int ORDER = -100;

    @Inject
    TesseraConfig config;

    @Inject
    ServiceMetrics metrics;

    @Inject
    ObjectMapper json;

    void install(@Observes Router router) {
        long limit = config.api().maxRequestBytes();
        for (String path : PATHS) {
            router.route(path).order(ORDER)
                    .handler(BodyHandler.create(false).setBodyLimit(limit))
                    .failureHandler(rc -> refuse(rc, limit));
        }
    }

    private void refuse(RoutingContext rc, long limit) {
        if (rc.statusCode() != 413 || rc.response().headWritten()) {
            rc.next();
            return;
        }
        metrics.rejected("request_too_large");
        ErrorDetail e = new ErrorDetail("the request body exceeds this server's limit of " + limit
                + " bytes (tessera.api.max-request-bytes)", "invalid_request_error", null, "request_too_large");
        try {
            rc.response().setStatusCode(413).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                    .end(json.writeValueAsString(new ErrorResponse(e)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException x) {
            rc.fail(x);
        }
    }
}
