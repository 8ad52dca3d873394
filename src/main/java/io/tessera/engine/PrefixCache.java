package io.tessera.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;

/**
 * Keys and values of finished prompts, kept so that a later prompt starting with the same tokens skips their
 * prefill. An entry belongs to one scope (a tenant: another tenant never hits it, so timing reveals nothing across
 * tenants) and one adapter version (its weights made those keys and values; ids are never reused), and holds whole
 * blocks of {@value #BLOCK} tokens. Full attention only: LM-Infinite's cache is not laid out by position. Least
 * recently used entries go when the byte budget is reached. Engine thread only.
 */
final class PrefixCache implements AutoCloseable {
    static final int BLOCK = 16;

    private final NDManager manager;
    private final long budget;
    private final long bytesPerEntry;
    /** Access-ordered: the first entry is the least recently used. Entries are few (each is at least a block). */
    private final LinkedHashMap<Entry, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private volatile long bytes;   // read by metrics from other threads

    PrefixCache(NDManager parent, long budget, long bytesPerEntry) {
        this.manager = parent.newSubManager();
        this.budget = budget;
        this.bytesPerEntry = bytesPerEntry;
    }

    /** A reusable prefix: how many prompt tokens it covers, and its keys and values (virtual tokens first). */
    record Hit(Entry entry, int tokens) {
        int positions() {
            return entry.virtual + tokens;
        }
    }

    /** The longest cached prefix of {@code tokens}, leaving at least one token to compute; null when none. */
    Hit find(String scope, long adapter, int[] tokens) {
        Entry best = null;
        int bestLen = 0;
        for (Entry e : entries.keySet()) {
            if (e.adapter == adapter && e.scope.equals(scope)) {
                int len = commonBlocks(e.tokens, tokens, tokens.length - 1);
                if (len > bestLen) {
                    best = e;
                    bestLen = len;
                }
            }
        }
        if (best == null) {
            return null;
        }
        entries.get(best);   // touch
        return new Hit(best, bestLen);
    }

    /**
     * Keeps the whole blocks of a prompt whose keys and values the sequence's slot holds now. An entry the new
     * one extends is replaced by it; a prompt already cached only refreshes its entry.
     */
    void remember(KvCache cache, int slot, String scope, long adapter, int virtual, int[] tokens) {
        int len = tokens.length / BLOCK * BLOCK;
        long size = (virtual + len) * bytesPerEntry;
        if (len == 0 || size > budget) {
            return;
        }
        for (Iterator<Entry> it = entries.keySet().iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.adapter != adapter || !e.scope.equals(scope)) {
                continue;
            }
            int common = commonBlocks(e.tokens, tokens, len);
            if (common >= len) {
                entries.get(e);
                return;
            }
            if (common == e.tokens.length) {
                it.remove();
                drop(e);
            }
        }
        while (bytes + size > budget) {
            Entry lru = entries.keySet().iterator().next();
            entries.remove(lru);
            drop(lru);
        }
        NDManager owner = manager.newSubManager();
        Entry e = new Entry(scope, adapter, virtual, Arrays.copyOf(tokens, len),
                cache.copyOut(slot, virtual + len, owner), owner, size);
        entries.put(e, e);
        bytes += size;
    }

    long bytes() {
        return bytes;
    }

    private void drop(Entry e) {
        bytes -= e.size;
        e.owner.close();
    }

    /** Tokens a and b share from the start, in whole blocks, at most {@code limit}. */
    private static int commonBlocks(int[] a, int[] b, int limit) {
        int n = Math.min(Math.min(a.length, b.length), limit);
        int i = 0;
        while (i < n && a[i] == b[i]) {
            i++;
        }
        return i / BLOCK * BLOCK;
    }

    @Override
    public void close() {
        manager.close();
    }

    /** One cached prompt prefix; keys and values per layer [virtual + tokens, 2 kvHeads, D], owned by {@code owner}. */
    static final class Entry {
        final String scope;
        final long adapter;
        final int virtual;
        final int[] tokens;
        final NDArray[] kv;
        final NDManager owner;
        final long size;

        Entry(String scope, long adapter, int virtual, int[] tokens, NDArray[] kv, NDManager owner, long size) {
            this.scope = scope;
            this.adapter = adapter;
            this.virtual = virtual;
            this.tokens = tokens;
            this.kv = kv;
            this.owner = owner;
            this.size = size;
        }
    }
}
