package io.tessera.service;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * Help texts that every Prometheus parser reads: the OpenMetrics writer escapes a double quote in HELP as \", which
 * the classic text format (promtool check metrics, older scrapers) rejects, failing the whole scrape. Micrometer's
 * own process_cpu_usage has one.
 */
public class MetricHelpText {

    @Produces
    @Singleton
    MeterFilter noQuotesInHelp() {
        return new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                String help = id.getDescription();
                if (help == null || help.indexOf('"') < 0) {
                    return id;
                }
                return new Meter.Id(id.getName(), Tags.of(id.getTagsAsIterable()), id.getBaseUnit(), help.replace('"', '\''),
                        id.getType());
            }
        };
    }
}
