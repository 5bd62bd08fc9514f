package org.jvirtio.distribution;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.jvirtio.distribution.BlkDeviceSpec.Backend;

/**
 * Parses the launcher's command line: {@code --device blk,key=value,...} once per device, in QEMU's
 * option syntax (a comma inside a value is written {@code ,,}). Pure: checks syntax and values, opens
 * nothing. Every error is a {@link UsageException} whose message names the device and the key.
 *
 * <p>Kept apart from {@link Launcher} so that the Felix distribution can turn the same strings into
 * Configuration Admin factory configurations.
 */
public final class DeviceOptionParser {
    /** The keys of {@code --device blk}, in the order the usage text lists them. */
    public static final List<String> BLK_KEYS = List.of("id", "socket", "backend", "path", "size", "readonly",
            "queues", "client", "reconnect");
    /** QEMU's own limit on virtio queues per device (VIRTIO_QUEUE_MAX). */
    public static final int MAX_QUEUES = 1024;
    /** A memory disk is one Java buffer: at most 2 GiB - 1, rounded down to whole sectors. */
    public static final long MAX_MEMORY_SIZE = Integer.MAX_VALUE & ~511L;
    /** The longest pause between client-mode connection attempts: an hour (a larger value is a typo). */
    public static final int MAX_RECONNECT_SECONDS = 3600;

    /** What QEMU accepts as an id: a letter, then letters, digits, '-', '.', '_'. */
    private static final Pattern ID = Pattern.compile("[A-Za-z][A-Za-z0-9._-]{0,63}");
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,19})([KMGT]?)", Pattern.CASE_INSENSITIVE);

    private DeviceOptionParser() {
    }

    /**
     * The devices on a command line: {@code --device SPEC} or {@code --device=SPEC}, repeated.
     *
     * @return the devices, in order; empty only for {@code --help}/{@code -h}
     */
    public static List<BlkDeviceSpec> parseArguments(List<String> args) throws UsageException {
        if (args.contains("--help") || args.contains("-h")) {
            return List.of();
        }
        List<BlkDeviceSpec> devices = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            String spec;
            if (arg.equals("--device")) {
                if (i + 1 >= args.size()) {
                    throw new UsageException("--device needs a value, e.g. --device blk,socket=PATH,path=IMG");
                }
                spec = args.get(++i);
            } else if (arg.startsWith("--device=")) {
                spec = arg.substring("--device=".length());
            } else {
                throw new UsageException("unknown argument '" + arg + "' (try --help)");
            }
            devices.add(parseDevice(spec, devices.size()));
        }
        if (devices.isEmpty()) {
            throw new UsageException("no --device given (try --help)");
        }
        Set<String> ids = new HashSet<>();
        Set<Path> sockets = new HashSet<>();
        for (BlkDeviceSpec d : devices) {
            if (!ids.add(d.id())) {
                throw new UsageException("two devices have id=" + d.id());
            }
            // one socket, one device, whichever side listens: QEMU serves one back end per chardev
            if (!sockets.add(d.socket().toAbsolutePath().normalize())) {
                throw new UsageException("two devices " + (d.client() ? "connect to" : "listen on") + " socket="
                        + d.socket());
            }
        }
        return devices;
    }

    /**
     * One {@code blk,key=value,...}.
     *
     * @param index the device's position on the command line; its default id is {@code blk<index>}
     */
    public static BlkDeviceSpec parseDevice(String spec, int index) throws UsageException {
        List<String> parts = split(spec);
        String type = parts.get(0);
        if (!type.equals("blk")) {
            throw new UsageException("--device '" + spec + "': unknown device type '" + type + "' (supported: blk)");
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (String part : parts.subList(1, parts.size())) {
            int eq = part.indexOf('=');
            String key = eq < 0 ? part : part.substring(0, eq);
            if (eq < 0) {
                throw new UsageException("--device blk: '" + part + "' is not key=value");
            }
            if (!BLK_KEYS.contains(key)) {
                throw new UsageException("--device blk: unknown key '" + key + "' (keys: " + String.join(", ", BLK_KEYS)
                        + ")");
            }
            if (values.put(key, part.substring(eq + 1)) != null) {
                throw new UsageException("--device blk: key '" + key + "' given twice");
            }
        }
        String id = values.getOrDefault("id", "blk" + index);
        String name = "--device blk id=" + id;
        if (!ID.matcher(id).matches()) {
            throw new UsageException("--device blk: bad id '" + id
                    + "' (a letter, then up to 63 letters, digits, '-', '.', '_')");
        }
        String socket = values.get("socket");
        if (socket == null || socket.isEmpty()) {
            throw new UsageException(name + ": socket=PATH is required (the vhost-user socket: QEMU connects to it,"
                    + " or with client=on QEMU listens on it)");
        }
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
        int queues = values.containsKey("queues") ? queues(name, values.get("queues")) : 1;
        boolean client = onOff(name, "client", values.getOrDefault("client", "off"));
        if (!client && values.containsKey("reconnect")) {
            throw new UsageException(name + ": reconnect= is only for client=on (in server mode QEMU reconnects)");
        }
        int reconnect = values.containsKey("reconnect") ? reconnect(name, values.get("reconnect"))
                : BlkDeviceSpec.DEFAULT_RECONNECT_SECONDS;
        return new BlkDeviceSpec(id, Path.of(socket), backend, path == null ? null : Path.of(path), size, readOnly,
                queues, client, reconnect);
    }

    /** Splits at single commas; {@code ,,} is a literal comma (QEMU's escape). */
    static List<String> split(String spec) throws UsageException {
        List<String> parts = new ArrayList<>();
        StringBuilder part = new StringBuilder();
        for (int i = 0; i < spec.length(); i++) {
            char c = spec.charAt(i);
            if (c != ',') {
                part.append(c);
            } else if (i + 1 < spec.length() && spec.charAt(i + 1) == ',') {
                part.append(',');
                i++;
            } else {
                parts.add(part.toString());
                part.setLength(0);
            }
        }
        parts.add(part.toString());
        for (String p : parts) {
            if (p.isEmpty()) {
                throw new UsageException("--device '" + spec + "': empty element (a stray comma?)");
            }
        }
        return parts;
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

    private static boolean onOff(String name, String key, String value) throws UsageException {
        switch (value) {
            case "on":
                return true;
            case "off":
                return false;
            default:
                throw new UsageException(name + ": " + key + "=" + value + " must be on or off");
        }
    }

    private static int queues(String name, String value) throws UsageException {
        int n;
        try {
            n = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 1 || n > MAX_QUEUES) {
            throw new UsageException(name + ": queues=" + value + " must be a number from 1 to " + MAX_QUEUES);
        }
        return n;
    }

    /** Whole seconds, 1 to {@link #MAX_RECONNECT_SECONDS}: as QEMU's own {@code reconnect=}. */
    private static int reconnect(String name, String value) throws UsageException {
        int n;
        try {
            n = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 1 || n > MAX_RECONNECT_SECONDS) {
            throw new UsageException(name + ": reconnect=" + value + " must be whole seconds from 1 to "
                    + MAX_RECONNECT_SECONDS);
        }
        return n;
    }

    /** The usage text of {@code --help}. */
    public static String usage() {
        return String.join(System.lineSeparator(),
                "usage: java -jar jvirtio.jar --device blk,socket=PATH,path=IMAGE[,KEY=VALUE...] [--device ...]",
                "",
                "Serves each device as a vhost-user-blk back end on its socket and prints the QEMU options",
                "that attach a guest. Stop with SIGTERM or Ctrl-C (backends are flushed and closed).",
                "With client=on, QEMU listens on the socket (server=on) and jvirtio connects to it.",
                "",
                "  id=NAME          device name and GET_ID serial (default blk0, blk1, ...)",
                "  socket=PATH      the vhost-user socket to listen on, or with client=on to connect to",
                "                   (required)",
                "  backend=KIND     file (default), memory or null",
                "  path=IMAGE       raw image file (backend=file only; created sparse if size= is given)",
                "  size=BYTES       disk size, a multiple of 512, with an optional K/M/G/T suffix",
                "                   (required for memory and null; for file: create or extend to this size)",
                "  readonly=on|off  the guest may only read (default off)",
                "  queues=N         request queues, 1 to " + MAX_QUEUES + " (default 1)",
                "  client=on|off    on: connect to QEMU's listening socket (server=on), reconnecting",
                "                   whenever QEMU is not there; off: listen (default off)",
                "  reconnect=SECS   client=on only: seconds between connection attempts, 1 to "
                        + MAX_RECONNECT_SECONDS + " (default " + BlkDeviceSpec.DEFAULT_RECONNECT_SECONDS + ")",
                "",
                "A comma inside a value is written ',,' (as in QEMU).");
    }
}
