package io.tessera.api;

import io.tessera.security.Caller;
import jakarta.enterprise.context.RequestScoped;

/** The caller of a /v1 request, set by {@link AuthFilter} before the resource runs. */
@RequestScoped
public class CurrentCaller {
    private Caller caller;

    public Caller get() {
        return caller;
    }

    public void set(Caller caller) {
        this.caller = caller;
    }
}
