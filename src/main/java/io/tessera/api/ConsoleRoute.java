package io.tessera.api;

import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * The web console's address without its slash: the static files under META-INF/resources/console are served at
 * /console/, and the page's relative links (js/, console.css) only resolve from there.
 */
@ApplicationScoped
public class ConsoleRoute {
    void route(@Observes Router router) {
        // a path route also matches "/console/", which the static files serve
        router.get("/console").handler(rc -> {
            if (rc.request().path().equals("/console")) {
                rc.redirect("/console/");
            } else {
                rc.next();
            }
        });
    }
}
