package io.tessera.service;

import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.tessera.adapters.AdapterResidency;
import io.tessera.adapters.DemoSeeder;
import io.tessera.config.TesseraConfig;
import io.tessera.runtime.EngineThreads;
import io.tessera.runtime.ModelHost;
import io.tessera.scheduler.Scheduler;
import io.tessera.scheduler.UnavailableException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The service's life: the model loads in the background after start (ready only once it is in), serves, then
 * drains on shutdown: readiness goes down and new requests get 503 while running streams finish within the grace
 * period ({@code quarkus.shutdown.timeout}). A model that fails to load is fatal: one log line names the cause,
 * liveness goes down and the process exits with status {@value #LOAD_FAILED_EXIT}, so that an orchestrator restarts
 * it (or stops restarting it, with the reason in its log) instead of keeping a process that will never be ready.
 */
@ApplicationScoped
public class ServingState {
    private static final Logger LOG = Logger.getLogger(ServingState.class);
    static final int LOAD_FAILED_EXIT = 1;

    public enum Phase { LOADING, READY, DRAINING, STOPPED, FAILED }

    @Inject
    TesseraConfig config;

    @Inject
    ServiceMetrics metrics;

    @Inject
    AdapterResidency residency;

    @Inject
    DemoSeeder seeder;
    @Inject
    ReadyBanner banner;

    @ConfigProperty(name = "quarkus.shutdown.timeout", defaultValue = "30s")
    Duration grace;

    private volatile Phase phase = Phase.LOADING;
    private volatile String failure;
    private volatile ModelHost host;
    private volatile Scheduler scheduler;

    void onStart(@Observes StartupEvent event) {
        Thread loader = new Thread(this::load, "tessera-model-load");
        loader.setDaemon(true);
        loader.start();
    }

    private void load() {
        try {
            long t = System.nanoTime();
            LOG.infof("loading model %s", config.model());
            EngineThreads.use(config.engine().threads().orElse(EngineThreads.serving()));
            ModelHost h = ModelHost.open(config.engineOptions(), config.adapters().budgetBytes(),
                    ModelHost.newLoader(config.adapters().loaderThreads()),
                    residency::load);
            Scheduler s = new Scheduler(h, config.schedulerOptions(), metrics);
            metrics.bind(s);
            s.start();
            host = h;
            scheduler = s;
            Optional<String> demoKey = seeder.seedOnce();
            phase = Phase.READY;
            LOG.infof("model %s loaded from %s in %d ms (%s, %d KV slots, %d engine threads)", h.name(), config.model(),
                    (System.nanoTime() - t) / 1_000_000, h.engine().device(), h.engine().maxSequences(), EngineThreads.current());
            banner.print(h.name(), demoKey);
        } catch (RuntimeException | LinkageError e) {
            // a missing native library is a LinkageError: report it rather than stay "loading" for ever
            failed(e);
        }
    }

    /** One line that names the cause (a bad checkpoint's message names the file and the problem), then exit. */
    private void failed(Throwable e) {
        String cause = e.getMessage() == null ? e.toString() : e.getMessage();
        failure = cause.replaceAll("\\s*\\R\\s*", " ");
        phase = Phase.FAILED;
        LOG.errorf("model %s failed to load: %s", config.model(), failure);
        LOG.debug("model load failure", e);
        if (LaunchMode.current() == LaunchMode.NORMAL) {
            Quarkus.asyncExit(LOAD_FAILED_EXIT);
        }
    }

    public Phase phase() {
        return phase;
    }

    /** The scheduler, while requests are taken. */
    public Scheduler scheduler() {
        return switch (phase) {
            case READY -> scheduler;
            case LOADING -> throw new UnavailableException("the model is still loading; retry shortly");
            case FAILED -> throw new UnavailableException("the model failed to load: " + failure);
            case DRAINING, STOPPED -> throw new UnavailableException("the server is shutting down");
        };
    }

    /** False when the engine loop is broken or the model failed to load; true while it loads. */
    public boolean engineHealthy() {
        Scheduler s = scheduler;
        return phase != Phase.FAILED && (s == null || s.healthy());
    }

    /** The model, once loaded (also while draining, for requests already running). */
    public ModelHost host() {
        ModelHost h = host;
        if (h == null) {
            scheduler();   // says why
        }
        return h;
    }

    /** The model once loaded, without asking for it to be (a listing shows what it can). */
    public Optional<ModelHost> loaded() {
        return Optional.ofNullable(host);
    }

    /** The shutdown switch: readiness down, new requests 503, what runs goes on. */
    public void drain() {
        if (phase == Phase.READY) {
            phase = Phase.DRAINING;
            scheduler.drain();
            LOG.info("draining: new requests get 503, running requests finish");
        }
    }

    /** Ends a drain that no stop followed (an aborted shutdown, tests). */
    public void resume() {
        if (phase == Phase.DRAINING) {
            scheduler.resume();
            phase = Phase.READY;
        }
    }

    /** Shutdown delay (SIGTERM with quarkus.shutdown.delay-enabled): drain while the delay runs. */
    void onShutdownDelay(@Observes ShutdownDelayInitiatedEvent event) {
        drain();
    }

    void onStop(@Observes ShutdownEvent event) throws InterruptedException {
        drain();
        Scheduler s = scheduler;
        if (s != null) {
            if (!s.awaitIdle(grace)) {
                LOG.warnf("grace period %s over with requests still running; stopping them", grace);
            }
            s.close();
            host.close();
        }
        phase = Phase.STOPPED;
    }
}
