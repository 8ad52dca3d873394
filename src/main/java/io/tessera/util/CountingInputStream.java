package io.tessera.util;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** A stream that tells a subclass how many bytes have been read (or skipped) so far, after every read: for limits. */
public abstract class CountingInputStream extends FilterInputStream {
    private long count;

    protected CountingInputStream(InputStream in) {
        super(in);
    }

    /** Called after every read with the total so far; throw to stop the reader. */
    protected abstract void counted(long total);

    @Override
    public int read() throws IOException {
        int b = super.read();
        add(b < 0 ? 0 : 1);
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        add(Math.max(n, 0));
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long skipped = super.skip(n);
        add(skipped);
        return skipped;
    }

    private void add(long n) {
        count += n;
        counted(count);
    }
}
