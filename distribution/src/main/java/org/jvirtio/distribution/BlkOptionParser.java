package org.jvirtio.distribution;

import static org.jvirtio.distribution.DeviceOptionParser.MAX_MEMORY_SIZE;
import static org.jvirtio.distribution.DeviceOptionParser.MAX_QUEUES;
import static org.jvirtio.distribution.DeviceOptionParser.id;
import static org.jvirtio.distribution.DeviceOptionParser.number;
import static org.jvirtio.distribution.DeviceOptionParser.onOff;
import static org.jvirtio.distribution.DeviceOptionParser.reconnect;
import static org.jvirtio.distribution.DeviceOptionParser.socket;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import org.jvirtio.distribution.BlkDeviceSpec.Backend;

/** The keys of {@code --device blk}, checked and turned into a {@link BlkDeviceSpec}. */
final class BlkOptionParser {
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,19})([KMGT]?)", Pattern.CASE_INSENSITIVE);

    private BlkOptionParser() {
    }

    /**
     * @param values the device's keys (known ones, each once)
     * @param index  the device's position on the command line
     */
    static BlkDeviceSpec parse(Map<String, String> values, int index) throws UsageException {
        String id = id("blk", values, index);
        String name = "--device blk id=" + id;
        Path socket = socket(name, values);
        Backend backend = backend(name, values.getOrDefault("backend", "file"));
        String path = values.get("path");
        if (backend == Backend.FILE && (path == null || path.isEmpty())) {
            throw new UsageException(name + ": backend=file needs path=IMAGE");
        }
        if (backend != Backend.FILE && path != null) {
            throw new UsageException(name + ": path= is only for backend=file, not backend="
                    + backend.name().toLowerCase(Locale.ROOT));
        }
        long size = values.containsKey("size") ? size(name, values.get("size")) : 0;
        if (backend != Backend.FILE && size == 0) {
            throw new UsageException(name + ": backend=" + backend.name().toLowerCase(Locale.ROOT)
                    + " needs size=BYTES");
        }
        if (backend == Backend.MEMORY && size > MAX_MEMORY_SIZE) {
            throw new UsageException(name + ": a memory disk holds at most " + MAX_MEMORY_SIZE + " bytes, not " + size);
        }
        boolean readOnly = onOff(name, "readonly", values.getOrDefault("readonly", "off"));
        int queues = values.containsKey("queues") ? number(name, "queues", values.get("queues"), 1, MAX_QUEUES) : 1;
        boolean client = onOff(name, "client", values.getOrDefault("client", "off"));
        int reconnect = reconnect(name, values, client);
        return new BlkDeviceSpec(id, socket, backend, path == null ? null : Path.of(path), size, readOnly,
                queues, client, reconnect);
    }

    private static Backend backend(String name, String value) throws UsageException {
        switch (value) {
            case "file":
                return Backend.FILE;
            case "memory":
                return Backend.MEMORY;
            case "null":
                return Backend.NULL;
            default:
                throw new UsageException(name + ": bad backend '" + value + "' (file, memory or null)");
        }
    }

    /** Bytes, optionally with a K, M, G or T suffix (powers of 1024); positive, a multiple of 512. */
    static long size(String name, String value) throws UsageException {
        var m = SIZE.matcher(value);
        if (!m.matches()) {
            throw new UsageException(name + ": bad size '" + value + "' (bytes, or a number with K, M, G or T)");
        }
        int shift = switch (m.group(2).toUpperCase(Locale.ROOT)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            default -> 0;
        };
        long bytes;
        try {
            long n = Long.parseLong(m.group(1));
            if (n > Long.MAX_VALUE >> shift) {
                throw new NumberFormatException();
            }
            bytes = n << shift;
        } catch (NumberFormatException e) {
            throw new UsageException(name + ": size '" + value + "' is too large");
        }
        if (bytes == 0 || bytes % 512 != 0) {
            throw new UsageException(name + ": size " + value + " must be a positive multiple of 512 bytes");
        }
        return bytes;
    }
}
