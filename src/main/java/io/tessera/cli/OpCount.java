package io.tessera.cli;

import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.util.Io;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;

/**
 * The libtorch ops some engine work issues, counted by libtorch's own profiler: every top-level {@code aten::} call
 * (one per NDArray op; the ops an op runs inside itself, such as matmul's reshapes, are not counted again).
 */
final class OpCount {
    /** Ops issued by {@code work}, run once under the profiler (CPU; the profiler slows it, so never time it). */
    static int of(Runnable work) {
        Path dir;
        try {
            dir = Files.createTempDirectory("tessera-ops");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Path trace = dir.resolve("trace.json");
            JniUtils.startProfile(false, false, false);
            try {
                work.run();
            } finally {
                JniUtils.stopProfile(trace.toString());
            }
            return topLevel(new ObjectMapper().readTree(trace.toFile()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                Io.deleteTree(dir);
            } catch (IOException e) {
                System.err.println("could not delete " + dir + ": " + e.getMessage());
            }
        }
    }

    /** Events (chrome trace, complete events) not nested in another event of the same thread. */
    static int topLevel(JsonNode trace) {
        JsonNode events = trace.isArray() ? trace : trace.path("traceEvents");
        List<double[]> spans = new ArrayList<>();   // {tid, start, end}
        for (JsonNode e : events) {
            if ("X".equals(e.path("ph").asText()) && e.path("name").asText().startsWith("aten::")) {
                double ts = e.path("ts").asDouble();
                spans.add(new double[] {e.path("tid").asDouble(), ts, ts + e.path("dur").asDouble()});
            }
        }
        // by thread, then start; an enclosing op starts no later and ends no earlier than what it runs
        spans.sort(Comparator.<double[]>comparingDouble(s -> s[0]).thenComparingDouble(s -> s[1]).thenComparingDouble(s -> -s[2]));
        int count = 0;
        Deque<double[]> open = new ArrayDeque<>();
        for (double[] s : spans) {
            while (!open.isEmpty() && (open.peek()[0] != s[0] || open.peek()[2] <= s[1])) {
                open.pop();
            }
            if (open.isEmpty()) {
                count++;
            }
            open.push(s);
        }
        return count;
    }

    private OpCount() {
    }
}
