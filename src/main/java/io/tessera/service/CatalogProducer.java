package io.tessera.service;

import io.tessera.adapters.AdapterCatalog;
import io.tessera.adapters.DirectoryAdapterCatalog;
import io.tessera.config.TesseraConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

/** Adapters come from the configured directory until the registry replaces this producer. */
public class CatalogProducer {
    @Produces
    @ApplicationScoped
    AdapterCatalog catalog(TesseraConfig config) {
        return new DirectoryAdapterCatalog(config.adaptersDir());
    }
}
