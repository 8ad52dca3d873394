package io.tessera.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.mutiny.Multi;
import io.tessera.scheduler.Generation;
import io.tessera.scheduler.GenerationListener.Finished;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.resteasy.reactive.RestMulti;

/**
 * Writes a request's events as the HTTP body: one JSON document, or server-sent events ending in
 * {@code data: [DONE]}. Events are formatted on the scheduler's delivery thread, never on the engine thread. Until
 * the first byte is written a failure still becomes a proper error response; after it, an error event ends the
 * stream.
 */
final class EventBody {
    private static final String DONE = "data: [DONE]\n\n";
    /** Items a stream may have in flight to the socket, so a burst is written without a round trip per token. */
    private static final int DEMAND = 64;

    /** One endpoint's JSON layout. One instance per request, so it may carry state from chunk to chunk. */
    interface Format {
        /** The completion's id, as every response object and chunk carries it. */
        String id();

        Object response(List<Generation.Token> tokens, Finished finished);

        /** The chunks one token adds (none when the client would see nothing). */
        void chunks(Generation.Token token, List<Object> out);

        Object finish(Finished finished);

        /** The stream_options.include_usage chunk: no choices, the usage. */
        Object usage(Finished finished);
    }

    static RestMulti<String> write(Multi<Inference.Event> events, boolean stream, boolean includeUsage, Format format,
                                   ObjectMapper json, String requestId) {
        if (!stream) {
            Multi<String> body = events.collect().asList()
                    .map(all -> json(json, whole(all, format)))
                    .toMulti();
            return RestMulti.fromMultiData(body).header("Content-Type", "application/json").build();
        }
        AtomicBoolean started = new AtomicBoolean();
        Multi<String> frames = events
                .onItem().transformToIterable(e -> frames(e, format, includeUsage, json))
                .onItem().invoke(() -> started.set(true))
                .onFailure(e -> started.get()).recoverWithItem(e -> data(json, ErrorMapper.body(e, requestId)));
        return RestMulti.fromMultiData(frames)
                .withDemand(DEMAND)
                .header("Content-Type", "text/event-stream")
                .header("Cache-Control", "no-cache")
                .build();
    }

    private static Object whole(List<Inference.Event> events, Format format) {
        List<Generation.Token> tokens = new ArrayList<>(events.size());
        Finished finished = null;
        for (Inference.Event e : events) {
            if (e instanceof Inference.TokenOut t) {
                tokens.add(t.token());
            } else if (e instanceof Inference.Done d) {
                finished = d.finished();
            }
        }
        return format.response(tokens, finished);
    }

    private static List<String> frames(Inference.Event e, Format format, boolean includeUsage, ObjectMapper json) {
        List<Object> chunks = new ArrayList<>(2);
        if (e instanceof Inference.TokenOut t) {
            format.chunks(t.token(), chunks);
        } else if (e instanceof Inference.Done d) {
            chunks.add(format.finish(d.finished()));
            if (includeUsage) {
                chunks.add(format.usage(d.finished()));
            }
        }
        List<String> out = new ArrayList<>(chunks.size() + 1);
        for (Object c : chunks) {
            out.add(data(json, c));
        }
        if (e instanceof Inference.Done) {
            out.add(DONE);
        }
        return out;
    }

    private static String data(ObjectMapper json, Object value) {
        return "data: " + json(json, value) + "\n\n";
    }

    private static String json(ObjectMapper json, Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private EventBody() {
    }
}
