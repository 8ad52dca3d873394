package io.tessera.adapters;

import java.nio.file.Path;

/**
 * An adapter a caller may use, as the catalog knows it.
 *
 * @param name          the model name clients send
 * @param version       versions are immutable: new weights get a new version
 * @param virtualTokens prompt-tuning tokens it prepends (0 for other kinds); they count against the context
 */
public record AdapterRef(String name, int version, Path dir, String peftType, int virtualTokens) {

    /** The adapter table's key: one immutable (adapter, version). */
    public String key() {
        return name + "@" + version;
    }
}
