package io.tessera.api.admin;

import io.tessera.security.Caller;
import jakarta.enterprise.context.RequestScoped;

/** The caller of an admin request, set by {@link AdminAuthFilter} before the resource runs. */
@RequestScoped
public class CurrentCaller {
    private Caller caller;

    public Caller get() {
        return caller;
    }

    void set(Caller caller) {
        this.caller = caller;
    }
}
