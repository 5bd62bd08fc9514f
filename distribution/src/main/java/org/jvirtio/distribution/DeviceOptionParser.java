package org.jvirtio.distribution;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Parses the launcher's command line: {@code --device blk,key=value,...} or {@code --device
 * net,key=value,...} once per device, in QEMU's option syntax (a comma inside a value is written {@code ,,}). Pure: checks syntax and values, opens
 * nothing. Every error is a {@link UsageException} whose message names the device and the key. The
 * rules every device type shares are here; each type's own keys are checked by {@link BlkOptionParser}
 * and {@link NetOptionParser}.
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
    static final Pattern ID = Pattern.compile("[A-Za-z][A-Za-z0-9._-]{0,63}");

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
                return BlkOptionParser.parse(keyValues(type, parts, BLK_KEYS), index);
            case "net":
                return NetOptionParser.parse(keyValues(type, parts, NET_KEYS), index);
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
    static String id(String type, Map<String, String> values, int index) throws UsageException {
        String id = values.getOrDefault("id", type + index);
        if (!ID.matcher(id).matches()) {
            throw new UsageException("--device " + type + ": bad id '" + id
                    + "' (a letter, then up to 63 letters, digits, '-', '.', '_')");
        }
        return id;
    }

    static Path socket(String name, Map<String, String> values) throws UsageException {
        String socket = values.get("socket");
        if (socket == null || socket.isEmpty()) {
            throw new UsageException(name + ": socket=PATH is required (the vhost-user socket: QEMU connects to it,"
                    + " or with client=on QEMU listens on it)");
        }
        return Path.of(socket);
    }

    /** {@code reconnect=} in seconds, only with {@code client=on}. */
    static int reconnect(String name, Map<String, String> values, boolean client) throws UsageException {
        if (!client && values.containsKey("reconnect")) {
            throw new UsageException(name + ": reconnect= is only for client=on (in server mode QEMU reconnects)");
        }
        return values.containsKey("reconnect") ? reconnect(name, values.get("reconnect"))
                : DeviceSpec.DEFAULT_RECONNECT_SECONDS;
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

    static boolean onOff(String name, String key, String value) throws UsageException {
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
    static int number(String name, String key, String value, int min, int max) throws UsageException {
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
                "                   drops what the guest sends; tap: a Linux TAP interface (not in",
                "                   this build yet)",
                "  switch=NAME      backend=switch only: devices with the same name share one switch",
                "                   (default name: " + NetDeviceSpec.DEFAULT_SWITCH + ")",
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
