package org.jvirtio.platform.instance;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code --device} strings, in QEMU's option syntax: {@code TYPE,key=value,...}, a comma inside a
 * value written {@code ,,}. The same keys as an instance's file in {@code conf/}, with {@code type}
 * in front. Public for the launchers (the container's and the plain one), which check a whole command
 * line before they start anything.
 */
public final class DeviceSpecs {
    /** The framework property through which the launcher hands its {@code --device} options over, one per line. */
    public static final String FRAMEWORK_PROPERTY = "jvirtio.devices";

    private DeviceSpecs() {
    }

    /**
     * The keys of one {@code --device} value, {@code type} first.
     *
     * @throws InstanceConfigException for an element that is empty or not {@code key=value}, a repeated key
     */
    public static Map<String, String> parse(String spec) {
        List<String> parts = split(spec);
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("type", parts.get(0));
        for (String part : parts.subList(1, parts.size())) {
            if (part.isEmpty()) {
                throw new InstanceConfigException("--device " + spec + ": empty element (a stray comma?)");
            }
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new InstanceConfigException("--device " + spec + ": '" + part + "' is not key=value");
            }
            String key = part.substring(0, eq);
            if (keys.put(key, part.substring(eq + 1)) != null) {
                throw new InstanceConfigException("--device " + spec + ": " + key + " given twice");
            }
        }
        return keys;
    }

    /**
     * Checks everything an instance with these keys needs that can be checked without opening
     * anything (files and sockets are the components' business when they start).
     *
     * @return the instance's id
     * @throws InstanceConfigException naming the device and the key
     */
    public static String check(Map<String, String> keys) {
        return InstancePlan.of(keys).id();
    }

    /**
     * The devices of a command line's {@code --device} values, in order, each checked, and checked
     * against each other: a device without {@code id} is named by its type and position
     * ({@code blk0}, {@code net1}); no two share an id, a socket or a MAC address.
     *
     * @throws InstanceConfigException naming the device and the key
     */
    public static List<InstancePlan> commandLine(List<String> specs) {
        List<InstancePlan> plans = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        Set<Path> sockets = new HashSet<>();
        Set<Object> macs = new HashSet<>();
        for (String spec : specs) {
            Map<String, String> keys = parse(spec);
            if (!InstancePlan.isType(keys.get("type"))) {
                throw new InstanceConfigException("--device " + spec + ": unknown device type '" + keys.get("type")
                        + "' (blk or net)");
            }
            keys.putIfAbsent("id", keys.get("type") + plans.size());
            InstancePlan plan = InstancePlan.of(keys);
            if (!ids.add(plan.id())) {
                throw new InstanceConfigException("two devices have id=" + plan.id());
            }
            // one socket, one device, whichever side listens: QEMU serves one back end per chardev
            if (!sockets.add(Path.of(plan.socket()).toAbsolutePath().normalize())) {
                throw new InstanceConfigException("device " + plan.id() + ": socket: two devices "
                        + (plan.client() ? "connect to" : "listen on") + " socket=" + plan.socket());
            }
            Object mac = plan.device().properties().get("mac");
            if (mac != null && !macs.add(mac)) {
                throw new InstanceConfigException("device " + plan.id() + ": mac: two devices have mac=" + mac);
            }
            plans.add(plan);
        }
        return plans;
    }

    /** {@code keys} as one {@code --device} value again: {@code type} first, commas in values doubled. */
    public static String format(Map<String, String> keys) {
        StringBuilder b = new StringBuilder(keys.get("type").replace(",", ",,"));
        keys.forEach((k, v) -> {
            if (!k.equals("type")) {
                b.append(',').append(k).append('=').append(v.replace(",", ",,"));
            }
        });
        return b.toString();
    }

    /** Splits at single commas; {@code ,,} stands for a comma. */
    private static List<String> split(String spec) {
        List<String> parts = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (int i = 0; i < spec.length(); i++) {
            char ch = spec.charAt(i);
            if (ch == ',' && i + 1 < spec.length() && spec.charAt(i + 1) == ',') {
                current.append(',');
                i++;
            } else if (ch == ',') {
                parts.add(current.toString());
                current.setLength(0);
            } else {
                current.append(ch);
            }
        }
        parts.add(current.toString());
        return parts;
    }

    /** Every key a device takes, with its values and default: the usage text of both launchers. */
    public static String keyHelp() {
        return String.join(System.lineSeparator(),
                "Keys of every device:",
                "  id=NAME          device name: a letter, then up to 63 letters, digits, '-', '.', '_'",
                "                   (on the command line the default is the type and position: blk0, net1)",
                "  socket=PATH      the vhost-user socket to listen on, or with client=on to connect to (required)",
                "  client=on|off    on: connect to QEMU's listening socket (server=on), reconnecting",
                "                   whenever QEMU is not there; off: listen (default off)",
                "  reconnect=SECS   client=on only: seconds between connection attempts, 1 to "
                        + InstancePlan.MAX_RECONNECT_SECONDS + " (default 1)",
                "  transport=vhost-user  the only transport (default)",
                "  drain_ms=MS      container only: how long a replaced device may take to finish its",
                "                   requests, 0 to 600000 (default 5000)",
                "",
                "blk (vhost-user-blk; the id is also the GET_ID serial):",
                "  backend=KIND     file (the default with path=), memory (the default without) or null",
                "  path=IMAGE       raw image file (backend=file only; created sparse if size= is given)",
                "  size=BYTES       disk size, a multiple of 512, with an optional K/M/G/T suffix (required",
                "                   for memory, at most " + BlkType.MAX_MEMORY_SIZE + ", and null; for file:",
                "                   create or extend to this size)",
                "  readonly=on|off  the guest may only read (default off)",
                "  queues=N         request queues, 1 to " + BlkType.MAX_QUEUES + " (default 1)",
                "  packed=on|off    offer packed rings (default on)",
                "",
                "net (vhost-user net, QEMU's -netdev vhost-user + virtio-net-pci):",
                "  backend=KIND     switch (default): a port on an in-JVM L2 switch; sink: counts and",
                "                   drops what the guest sends; tap: a Linux TAP interface",
                "  switch=NAME      backend=switch only: devices with the same name share one switch",
                "                   (default " + NetType.DEFAULT_SWITCH + ")",
                "  ifname=NAME      backend=tap only (required): the TAP interface",
                "  mac=ADDRESS      the device's unicast address (default 52:54:00 and three bytes derived",
                "                   from the id)",
                "  mtu=BYTES        largest payload, " + NetType.MIN_MTU + " to " + NetType.MAX_MTU + " (default "
                        + NetType.DEFAULT_MTU + ")",
                "  queues=N         receive/transmit queue pairs, 1 to " + NetType.MAX_QUEUE_PAIRS + " (default 1)",
                "  packed=on|off    offer packed rings (default on; QEMU uses them with packed=on)",
                "  mrg_rxbuf=on|off offer mergeable receive buffers (default on)",
                "",
                "on|off also takes true|false and yes|no. A comma inside a value is written ',,' (as in QEMU).");
    }

    /** Every key {@link #keyHelp()} documents, per type (common keys under {@code ""}): for tests of the text. */
    static Map<String, Set<String>> keysByType() {
        Map<String, Set<String>> keys = new LinkedHashMap<>();
        keys.put("", InstancePlan.commonKeys());
        keys.put("blk", new BlkType().keys());
        keys.put("net", new NetType().keys());
        return keys;
    }
}
