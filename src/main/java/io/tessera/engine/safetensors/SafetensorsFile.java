package io.tessera.engine.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A memory-mapped safetensors file, validated completely before any tensor is handed out: header length
 * bounded and inside the file, UTF-8 JSON without duplicate keys, known dtypes, each tensor's byte range equal
 * to shape x dtype (overflow-checked), ranges contiguous from 0 and non-overlapping, nothing after the last one.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The reference implementation's cap; a header beyond it is an attack or corruption, never a model. */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    // trailing tokens: readTree otherwise stops after the first value and ignores whatever follows it
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
                            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(path + ": file not found");
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot open (" + e.getMessage() + ")");
        }
        try {
            return parse(path, ch);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static SafetensorsFile parse(Path path, FileChannel ch) {
        long size;
        try {
            size = ch.size();
            if (size < 8) {
                throw fail(path, "truncated: " + size + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long headerLen = len.flip().getLong();
            // unsigned on disk: a "negative" length is one past 2^63, so over the limit too
            if (headerLen < 0 || headerLen > MAX_HEADER_BYTES) {
                throw new SizeLimitException(path + ": header length " + Long.toUnsignedString(headerLen)
                        + " is over the limit of " + MAX_HEADER_BYTES + " bytes");
            }
            if (headerLen < 2) {
                throw fail(path, "header length " + headerLen + " is shorter than the 2 bytes of an empty JSON object");
            }
            if (8 + headerLen > size) {
                throw fail(path, "header length " + headerLen + " runs past the end of the file (" + size + " bytes)");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(ch, header, 8);
            String json = decodeUtf8(path, header.flip());
            long dataStart = 8 + headerLen;
            return build(path, ch, dataStart, size - dataStart, json);
        } catch (IOException e) {
            throw new CheckpointException(path + ": read error (" + e.getMessage() + ")", e);
        }
    }

    private static SafetensorsFile build(Path path, FileChannel ch, long dataStart, long dataLen, String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            String msg = e.getOriginalMessage();
            throw fail(path, (msg != null && msg.startsWith("Duplicate field") ? "duplicate key in header: " : "header is not valid JSON: ") + msg);
        }
        if (root == null || !root.isObject()) {
            throw fail(path, "header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> list = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                readMetadata(path, e.getValue(), metadata);
            } else {
                list.add(readTensor(path, e.getKey(), e.getValue()));
            }
        }
        list.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expected = 0;
        for (TensorInfo t : list) {
            // range first: a tensor moved past the data would otherwise be reported as a gap before it
            if (t.end() > dataLen) {
                throw fail(path, "tensor " + t.name() + " ends at " + t.end() + ", past the end of the data (" + dataLen + " bytes): truncated or out-of-range offsets");
            }
            if (t.begin() < expected) {
                throw fail(path, "tensor " + t.name() + " overlaps the previous tensor (offset " + t.begin() + " < " + expected + ")");
            }
            if (t.begin() > expected) {
                throw fail(path, "gap before tensor " + t.name() + " (offset " + t.begin() + ", expected " + expected + ")");
            }
            expected = t.end();
        }
        if (expected != dataLen) {
            throw fail(path, (dataLen - expected) + " trailing bytes after the last tensor");
        }
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (TensorInfo t : list) {
            byName.put(t.name(), t);
        }
        return new SafetensorsFile(path, ch, dataStart, Collections.unmodifiableMap(byName), Collections.unmodifiableMap(metadata));
    }

    private static void readMetadata(Path path, JsonNode node, Map<String, String> out) {
        if (!node.isObject()) {
            throw fail(path, "__metadata__ is not an object");
        }
        node.fields().forEachRemaining(m -> {
            if (!m.getValue().isTextual()) {
                throw fail(path, "__metadata__ value of " + m.getKey() + " is not a string");
            }
            out.put(m.getKey(), m.getValue().asText());
        });
    }

    private static TensorInfo readTensor(Path path, String name, JsonNode node) {
        if (!node.isObject()) {
            throw fail(path, "tensor " + name + ": entry is not an object");
        }
        JsonNode dt = node.get("dtype");
        JsonNode shp = node.get("shape");
        JsonNode off = node.get("data_offsets");
        if (dt == null || !dt.isTextual() || shp == null || !shp.isArray() || off == null || !off.isArray() || off.size() != 2) {
            throw fail(path, "tensor " + name + ": needs dtype, shape and data_offsets [begin, end]");
        }
        DType dtype = DType.parse(dt.asText()).orElseThrow(() -> fail(path, "tensor " + name + ": unknown dtype " + dt.asText()));
        long[] shape = new long[shp.size()];
        long bytes = dtype.bytes();
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shp.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw fail(path, "tensor " + name + ": bad dimension " + d);
            }
            shape[i] = d.asLong();
            try {
                bytes = Math.multiplyExact(bytes, shape[i]);
            } catch (ArithmeticException e) {
                throw fail(path, "tensor " + name + ": shape " + shp + " overflows");
            }
        }
        JsonNode b = off.get(0);
        JsonNode e = off.get(1);
        if (!b.isIntegralNumber() || !e.isIntegralNumber() || !b.canConvertToLong() || !e.canConvertToLong()
                || b.asLong() < 0 || e.asLong() < b.asLong()) {
            throw fail(path, "tensor " + name + ": bad data_offsets " + off);
        }
        if (e.asLong() - b.asLong() != bytes) {
            throw fail(path, "tensor " + name + ": data_offsets cover " + (e.asLong() - b.asLong()) + " bytes but " + dtype
                    + " " + shp + " needs " + bytes);
        }
        return new TensorInfo(name, dtype, shape, b.asLong(), e.asLong());
    }

    private static String decodeUtf8(Path path, ByteBuffer bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw fail(path, "header is not valid UTF-8");
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
            pos += n;
        }
    }

    private static CheckpointException fail(Path path, String problem) {
        return new CheckpointException(path + ": " + problem);
    }

    public Path path() {
        return path;
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw fail(path, "missing tensor " + name);
        }
        return t;
    }

    /** The tensor's bytes, little-endian, mapped read-only (no copy). */
    public ByteBuffer raw(String name) {
        TensorInfo t = info(name);
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin(), t.end() - t.begin())
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot map tensor " + name + " (" + e.getMessage() + ")", e);
        }
    }

    /** The tensor widened to float32; bf16 is widened here because DJL 0.36 aborts on BFLOAT16 arrays. */
    public float[] readFloats(String name) {
        TensorInfo t = info(name);
        if (t.elements() > Integer.MAX_VALUE - 8) {
            throw fail(path, "tensor " + name + " is too large for one array");
        }
        ByteBuffer b = raw(name);
        float[] out = new float[(int) t.elements()];
        switch (t.dtype()) {
            case F32 -> b.asFloatBuffer().get(out);
            case BF16 -> {
                // one bulk copy, then a plain array loop the JIT vectorises (no per-element buffer bounds checks)
                short[] h = halves(b, out.length);
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.intBitsToFloat((h[i] & 0xffff) << 16);
                }
            }
            case F16 -> {
                short[] h = halves(b, out.length);
                for (int i = 0; i < out.length; i++) {
                    out[i] = Half.toFloat(h[i]);
                }
            }
            default -> throw fail(path, "tensor " + name + " has dtype " + t.dtype() + "; weights must be F32, F16 or BF16");
        }
        return out;
    }

    private static short[] halves(ByteBuffer b, int n) {
        short[] h = new short[n];
        b.asShortBuffer().get(h);
        return h;
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing useful to do: the file was only read
        }
    }
}
