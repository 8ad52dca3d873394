package io.tessera.runtime;

import io.tessera.engine.Engine;
import io.tessera.engine.EngineOptions;
import io.tessera.engine.adapter.AdapterTable;
import io.tessera.engine.tokenizer.ChatTemplate;
import io.tessera.engine.tokenizer.ChatTemplateException;
import io.tessera.engine.tokenizer.TextTokenizer;
import io.tessera.engine.tokenizer.TokenizerSettings;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/** One base model ready to serve: engine, tokenizer, chat template and the residency table of its adapters. */
public final class ModelHost implements AutoCloseable {
    private final String name;
    private final Engine engine;
    private final TextTokenizer tokenizer;
    private final TokenizerSettings settings;
    private final ChatTemplate chatTemplate;
    private final ExecutorService loader;
    private final AdapterTable adapters;

    private ModelHost(Engine engine, TextTokenizer tokenizer, long adapterBudgetBytes, ExecutorService loader,
                      AdapterTable.Source adapterSource) {
        this.name = engine.files().dir().toAbsolutePath().normalize().getFileName().toString();
        this.engine = engine;
        this.tokenizer = tokenizer;
        this.settings = TokenizerSettings.load(engine.files().dir(), tokenizer);
        this.chatTemplate = settings.chatTemplate().isPresent() ? ChatTemplate.of(settings) : null;
        this.loader = loader;
        this.adapters = new AdapterTable(engine, adapterBudgetBytes, loader, adapterSource);
    }

    public static ModelHost open(EngineOptions options, long adapterBudgetBytes) {
        return open(options, adapterBudgetBytes, newLoader(1), null);
    }

    /** @param loader reads and checks adapter files off the engine thread; the host shuts it down on close */
    public static ModelHost open(EngineOptions options, long adapterBudgetBytes, ExecutorService loader) {
        return open(options, adapterBudgetBytes, loader, null);
    }

    /** Loader threads: more than one keeps a burst of cold adapters from queueing behind each other's reads. */
    public static ExecutorService newLoader(int threads) {
        if (threads < 1 || threads > 16) {
            throw new IllegalArgumentException("adapter loader threads must be between 1 and 16 (got " + threads + ")");
        }
        AtomicInteger n = new AtomicInteger();
        return Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "tessera-adapter-loader-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** @param adapterSource where adapters come from when not resident (a host-memory tier); null: their directories */
    public static ModelHost open(EngineOptions options, long adapterBudgetBytes, ExecutorService loader,
                                 AdapterTable.Source adapterSource) {
        Engine engine = Engine.open(options);
        TextTokenizer tokenizer = null;
        try {
            tokenizer = TextTokenizer.load(options.modelDir());
            return new ModelHost(engine, tokenizer, adapterBudgetBytes, loader, adapterSource);
        } catch (RuntimeException e) {
            if (tokenizer != null) {
                tokenizer.close();
            }
            engine.close();
            loader.shutdownNow();
            throw e;
        }
    }

    /** The base model's name for clients: its directory's name. */
    public String name() {
        return name;
    }

    public Engine engine() {
        return engine;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    public AdapterTable adapters() {
        return adapters;
    }

    /** Tokens a sequence may hold under full attention: the trained length, or less KV room if configured so. */
    public int contextLimit() {
        return Math.min(engine.config().maxPositionEmbeddings(), engine.cacheCapacity());
    }

    public Set<Integer> eosIds() {
        return settings.eosTokenIds();
    }

    /** The model's chat template; fails with {@link ChatTemplateException} when it has none. */
    public ChatTemplate chatTemplate() {
        return Optional.ofNullable(chatTemplate).orElseThrow(() -> new ChatTemplateException(
                "model " + name + " has no chat template; use /v1/completions"));
    }

    @Override
    public void close() {
        loader.shutdownNow();
        tokenizer.close();
        engine.close();
    }
}
