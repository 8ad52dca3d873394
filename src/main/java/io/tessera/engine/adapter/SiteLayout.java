package io.tessera.engine.adapter;

import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * How a rank bucket lays out one site's LoRA weights: the site's outputs are {@code chunks} chunks of
 * {@code width} columns, each fed by its own block of {@code rank} columns of A. Two shapes, whichever a step
 * reads fewer bytes of (mixed-batch LoRA is bound by reading weights, not by arithmetic):
 * <ul>
 *   <li>one chunk holding every module's rank block, B block-diagonal (zeros off each module's outputs);</li>
 *   <li>chunks of the modules' common width, B dense, a module's A repeated for each of its chunks.</li>
 * </ul>
 * A is stored transposed, [slots, chunks * rank, in]; B is [slots, rank, width] for one chunk, else
 * [slots, chunks, rank, width].
 */
record SiteLayout(int chunks, int rank, int width, int in) {

    static SiteLayout choose(int rank, int in, int[] moduleWidths) {
        int out = Arrays.stream(moduleWidths).sum();
        int common = Arrays.stream(moduleWidths).reduce(SiteLayout::gcd).orElseThrow();
        int modules = moduleWidths.length;
        long blockDiagonal = (long) modules * rank * (in + out);
        long chunked = (long) rank * ((long) in * (out / common) + out);
        return chunked < blockDiagonal ? new SiteLayout(out / common, rank, common, in) : new SiteLayout(1, modules * rank, out, in);
    }

    Shape aShape(long slots) {
        return new Shape(slots, (long) chunks * rank, in);
    }

    Shape bShape(long slots) {
        return chunks == 1 ? new Shape(slots, rank, width) : new Shape(slots, chunks, rank, width);
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }
}
