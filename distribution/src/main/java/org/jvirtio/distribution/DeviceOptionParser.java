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
 * Parses the launcher's command line: {@code --device blk,key=value,...} or {@code --device
 * net,key=value,...} once per device, in QEMU's option syntax (a comma inside a value is written {@code ,,}). Pure: checks syntax and values, opens
 * nothing. Every error is a {@link UsageException} whose message names the device and the key.
 *
 * <p>Kept apart from {@link Launcher} so that the Felix distribution can turn the same strings into
 * Configuration Admin factory configurations.
 */
public final class DeviceOptionParser {
    /** The keys of {@code --device blk}, in the order the usage text lists them. */
    public static final List<String> BLK_KEYS = List.of("id", "socket", "backend", "path", "size", "readonly",
            "queues", "client", "reconnect");
    /** The keys of {@code --device net}, in the order the usage text lists them. */
    public static final List<String> NET_KEYS = List.of("id", "socket", "backend", "switch", "ifname", "mac", "mtu",
            "queues", "packed", "mrg_rxbuf", "client", "reconnect");
    /** QEMU's own limit on virtio queues per device (VIRTIO_QUEUE_MAX). */
    public static final int MAX_QUEUES = 1024;
    /** QEMU's limit on virtio-net queue pairs: 2 per pair and the control queue within VIRTIO_QUEUE_MAX. */
    public static final int MAX_QUEUE_PAIRS = (MAX_QUEUES - 1) / 2;
    /** The MTU range of the virtio-net device: IPv4's minimum to what fits a 64 KiB frame. */
    public static final int MIN_MTU = 68;
    public static final int MAX_MTU = 65517;
    /** A memory disk is one Java buffer: at most 2 GiB - 1, rounded down to whole sectors. */
    public static final long MAX_MEMORY_SIZE = Integer.MAX_VALUE & ~511L;
    /** The longest pause between client-mode connection attempts: an hour (a larger value is a typo). */
    public static final int MAX_RECONNECT_SECONDS = 3600;

    /** What QEMU accepts as an id: a letter, then letters, digits, '-', '.', '_'. */
    private static final Pattern ID = Pattern.compile("[A-Za-z][A-Za-z0-9._-]{0,63}");
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,19})([KMGT]?)", Pattern.CASE_INSENSITIVE);
    private static final Pattern MAC = Pattern.compile("[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}");
    /** What Linux takes as an interface name (dev_valid_name, IFNAMSIZ), kept to the portable characters. */
    private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
    /** QEMU's first default NIC address; the device at position i gets the last byte 0x56 + i. */
    private static final String DEFAULT_MAC_PREFIX = "52:54:00:12:34:";

    private DeviceOptionParser() {
    }

    /**
     * The devices on a command line: {@code --device SPEC} or {@code --device=SPEC}, repeated.
     *
     * @return the devices, in order; empty only for {@code --help}/{@code -h}
     */
    public static List<DeviceSpec> parseArguments(List<String> args) throws UsageException {
        if (args.contains("--help") || args.contains("-h")) {
            return List.of();
        }
        List<DeviceSpec> devices = new ArrayList<>();
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
        Set<String> macs = new HashSet<>();
        for (DeviceSpec d : devices) {
            if (!ids.add(d.id())) {
                throw new UsageException("two devices have id=" + d.id());
            }
            // one socket, one device, whichever side listens: QEMU serves one back end per chardev
            if (!sockets.add(d.socket().toAbsolutePath().normalize())) {
                throw new UsageException("two devices " + (d.client() ? "connect to" : "listen on") + " socket="
                        + d.socket());
            }
            if (d instanceof NetDeviceSpec net && !macs.add(net.mac())) {
                throw new UsageException("two devices have mac=" + net.mac());
            }
        }
        return devices;
    }

    /**
     * One {@code TYPE,key=value,...}.
     *
     * @param index the device's position on the command line; its default id is {@code TYPE<index>}
     */
    public static DeviceSpec parseDevice(String spec, int index) throws UsageException {
        List<String> parts = split(spec);
        String type = parts.get(0);
        switch (type) {
            case "blk":
                return parseBlk(keyValues(type, parts, BLK_KEYS), index);
            case "net":
                return parseNet(keyValues(type, parts, NET_KEYS), index);
            default:
                throw new UsageException("--device '" + spec + "': unknown device type '" + type
                        + "' (supported: blk, net)");
        }
    }

    /** The {@code key=value} elements after the type, each key known and given once. */
    private static Map<String, String> keyValues(String type, List<String> parts, List<String> keys)
            throws UsageException {
        Map<String, String> values = new LinkedHashMap<>();
        for (String part : parts.subList(1, parts.size())) {
            int eq = part.indexOf('=');
            String key = eq < 0 ? part : part.substring(0, eq);
            if (eq < 0) {
                throw new UsageException("--device " + type + ": '" + part + "' is not key=value");
            }
            if (!keys.contains(key)) {
                throw new UsageException("--device " + type + ": unknown key '" + key + "' (keys: "
                        + String.join(", ", keys) + ")");
            }
            if (values.put(key, part.substring(eq + 1)) != null) {
                throw new UsageException("--device " + type + ": key '" + key + "' given twice");
            }
        }
        return values;
    }

    /** The device's id, checked; the default is {@code TYPE<index>}. */
    private static String id(String type, Map<String, String> values, int index) throws UsageException {
        String id = values.getOrDefault("id", type + index);
        if (!ID.matcher(id).matches()) {
            throw new UsageException("--device " + type + ": bad id '" + id
                    + "' (a letter, then up to 63 letters, digits, '-', '.', '_')");
        }
        return id;
    }

    private static Path socket(String name, Map<String, String> values) throws UsageException {
        String socket = values.get("socket");
        if (socket == null || socket.isEmpty()) {
            throw new UsageException(name + ": socket=PATH is required (the vhost-user socket: QEMU connects to it,"
                    + " or with client=on QEMU listens on it)");
        }
        return Path.of(socket);
    }

    /** {@code reconnect=} in seconds, only with {@code client=on}. */
    private static int reconnect(String name, Map<String, String> values, boolean client) throws UsageException {
        if (!client && values.containsKey("reconnect")) {
            throw new UsageException(name + ": reconnect= is only for client=on (in server mode QEMU reconnects)");
        }
        return values.containsKey("reconnect") ? reconnect(name, values.get("reconnect"))
                : DeviceSpec.DEFAULT_RECONNECT_SECONDS;
    }

    private static BlkDeviceSpec parseBlk(Map<String, String> values, int index) throws UsageException {
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

    private static NetDeviceSpec parseNet(Map<String, String> values, int index) throws UsageException {
        String id = id("net", values, index);
        String name = "--device net id=" + id;
        Path socket = socket(name, values);
        NetDeviceSpec.Backend backend = netBackend(name, values.getOrDefault("backend", "switch"));
        String kind = backend.name().toLowerCase(Locale.ROOT);
        String switchName = values.get("switch");
        if (backend != NetDeviceSpec.Backend.SWITCH && switchName != null) {
            throw new UsageException(name + ": switch= is only for backend=switch, not backend=" + kind);
        }
        if (backend == NetDeviceSpec.Backend.SWITCH) {
            switchName = switchName == null ? NetDeviceSpec.DEFAULT_SWITCH : switchName;
            if (!ID.matcher(switchName).matches()) {
                throw new UsageException(name + ": bad switch name '" + switchName
                        + "' (a letter, then up to 63 letters, digits, '-', '.', '_')");
            }
        }
        String ifname = values.get("ifname");
        if (backend != NetDeviceSpec.Backend.TAP && ifname != null) {
            throw new UsageException(name + ": ifname= is only for backend=tap, not backend=" + kind);
        }
        if (backend == NetDeviceSpec.Backend.TAP) {
            if (ifname == null || ifname.isEmpty()) {
                throw new UsageException(name + ": backend=tap needs ifname=NAME");
            }
            if (!IFNAME.matcher(ifname).matches() || ifname.equals(".") || ifname.equals("..")) {
                throw new UsageException(name + ": bad ifname '" + ifname
                        + "' (1 to 15 letters, digits, '-', '.', '_'; not . or ..)");
            }
        }
        String mac = values.containsKey("mac") ? mac(name, values.get("mac"))
                : DEFAULT_MAC_PREFIX + String.format("%02x", (0x56 + index) & 0xFF);
        int mtu = values.containsKey("mtu") ? number(name, "mtu", values.get("mtu"), MIN_MTU, MAX_MTU)
                : NetDeviceSpec.DEFAULT_MTU;
        int pairs = values.containsKey("queues")
                ? number(name, "queues", values.get("queues"), 1, MAX_QUEUE_PAIRS) : 1;
        boolean packed = onOff(name, "packed", values.getOrDefault("packed", "on"));
        boolean mergeable = onOff(name, "mrg_rxbuf", values.getOrDefault("mrg_rxbuf", "on"));
        boolean client = onOff(name, "client", values.getOrDefault("client", "off"));
        int reconnect = reconnect(name, values, client);
        return new NetDeviceSpec(id, socket, backend, switchName, ifname, mac, mtu, pairs, packed, mergeable, client,
                reconnect);
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

    private static NetDeviceSpec.Backend netBackend(String name, String value) throws UsageException {
        switch (value) {
            case "switch":
                return NetDeviceSpec.Backend.SWITCH;
            case "sink":
                return NetDeviceSpec.Backend.SINK;
            case "tap":
                return NetDeviceSpec.Backend.TAP;
            default:
                throw new UsageException(name + ": bad backend '" + value + "' (switch, sink or tap)");
        }
    }

    /** Six hex bytes separated by colons, a unicast address; returned in lower case. */
    static String mac(String name, String value) throws UsageException {
        if (!MAC.matcher(value).matches()) {
            throw new UsageException(name + ": bad mac '" + value + "' (six hex bytes, e.g. 52:54:00:12:34:56)");
        }
        String mac = value.toLowerCase(Locale.ROOT);
        if ((Integer.parseInt(mac.substring(0, 2), 16) & 1) != 0) {
            throw new UsageException(name + ": mac=" + value + " is a multicast address (the first byte must be even)");
        }
        if (mac.equals("00:00:00:00:00:00")) {
            throw new UsageException(name + ": mac=" + value + " is not an address");
        }
        return mac;
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

    /** A decimal number from {@code min} to {@code max}. */
    private static int number(String name, String key, String value, int min, int max) throws UsageException {
        int n;
        try {
            n = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            n = min - 1;
        }
        if (n < min || n > max) {
            throw new UsageException(name + ": " + key + "=" + value + " must be a number from " + min + " to " + max);
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
                "       java -jar jvirtio.jar --device net,socket=PATH,switch=NAME[,KEY=VALUE...] [--device ...]",
                "",
                "Serves each device as a vhost-user back end on its socket and prints the QEMU options",
                "that attach a guest. Stop with SIGTERM or Ctrl-C (backends are flushed and closed).",
                "With client=on, QEMU listens on the socket (server=on) and jvirtio connects to it.",
                "",
                "Keys of every device:",
                "  id=NAME          device name (default blk0, net1, ...: type and position)",
                "  socket=PATH      the vhost-user socket to listen on, or with client=on to connect to",
                "                   (required)",
                "  client=on|off    on: connect to QEMU's listening socket (server=on), reconnecting",
                "                   whenever QEMU is not there; off: listen (default off)",
                "  reconnect=SECS   client=on only: seconds between connection attempts, 1 to "
                        + MAX_RECONNECT_SECONDS + " (default " + DeviceSpec.DEFAULT_RECONNECT_SECONDS + ")",
                "",
                "blk (vhost-user-blk; the id is also the GET_ID serial):",
                "  backend=KIND     file (default), memory or null",
                "  path=IMAGE       raw image file (backend=file only; created sparse if size= is given)",
                "  size=BYTES       disk size, a multiple of 512, with an optional K/M/G/T suffix",
                "                   (required for memory and null; for file: create or extend to this size)",
                "  readonly=on|off  the guest may only read (default off)",
                "  queues=N         request queues, 1 to " + MAX_QUEUES + " (default 1)",
                "",
                "net (vhost-user net, QEMU's -netdev vhost-user + virtio-net-pci):",
                "  backend=KIND     switch (default): a port on an in-JVM L2 switch; sink: counts and",
                "                   drops what the guest sends; tap: a Linux TAP interface",
                "  switch=NAME      backend=switch only: devices with the same name share one switch",
                "                   (default " + NetDeviceSpec.DEFAULT_SWITCH + ")",
                "  ifname=NAME      backend=tap only (required): the TAP interface",
                "  mac=ADDRESS      the device's unicast address (default 52:54:00:12:34:56 + position)",
                "  mtu=BYTES        largest payload, " + MIN_MTU + " to " + MAX_MTU + " (default "
                        + NetDeviceSpec.DEFAULT_MTU + ")",
                "  queues=N         receive/transmit queue pairs, 1 to " + MAX_QUEUE_PAIRS + " (default 1)",
                "  packed=on|off    offer packed rings (default on; QEMU uses them with packed=on)",
                "  mrg_rxbuf=on|off offer mergeable receive buffers (default on)",
                "",
                "A comma inside a value is written ',,' (as in QEMU).");
    }
}
