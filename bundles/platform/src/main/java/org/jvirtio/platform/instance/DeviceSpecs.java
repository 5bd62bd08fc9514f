package org.jvirtio.platform.instance;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

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
     * ({@code blk0}, {@code net1}); no two share an id, a socket, a MAC address or a slot of one QEMU
     * (its {@code qmp} socket), and the devices of one QEMU name the same {@code qtest} socket.
     *
     * <p>{@code transport=mmio} devices naming the same slot of one QEMU share it, one register window
     * each: a device without {@code window} takes the next one in command-line order (the first device
     * of a slot window 0). No two take one window, the windows of a slot are 0 to n-1 without a gap
     * (the SSDT declares that many), and a slot is either one PCI device's or mmio windows.
     *
     * @throws InstanceConfigException naming the device and the key
     */
    public static List<InstancePlan> commandLine(List<String> specs) {
        List<InstancePlan> plans = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        Set<Path> sockets = new HashSet<>();
        Set<Object> macs = new HashSet<>();
        Map<PciAddress, String> pciSlots = new HashMap<>();
        Map<PciAddress, TreeMap<Integer, String>> mmioSlots = new LinkedHashMap<>();
        Map<Path, String> qtests = new HashMap<>();
        for (String spec : specs) {
            Map<String, String> keys = parse(spec);
            if (!InstancePlan.isType(keys.get("type"))) {
                throw new InstanceConfigException("--device " + spec + ": unknown device type '" + keys.get("type")
                        + "' (" + InstancePlan.TYPE_NAMES + ")");
            }
            keys.putIfAbsent("id", keys.get("type") + plans.size());
            InstancePlan plan = InstancePlan.of(keys);
            if (!ids.add(plan.id())) {
                throw new InstanceConfigException("two devices have id=" + plan.id());
            }
            if (plan.qemuAttached()) {
                Path qmp = Path.of(plan.qmp()).toAbsolutePath().normalize();
                PciAddress address = new PciAddress(qmp, plan.slot());
                if (pciSlots.containsKey(address) || plan.pci() && mmioSlots.containsKey(address)) {
                    // one QEMU, one device per slot: QEMU would refuse the second device_add
                    String owner = pciSlots.containsKey(address) ? "device " + pciSlots.get(address)
                            : "the mmio windows of " + String.join(", ", mmioSlots.get(address).values());
                    throw new InstanceConfigException("device " + plan.id() + ": slot: slot=" + plan.slot()
                            + " of the QEMU on qmp=" + plan.qmp() + " is already " + owner + "'s");
                }
                if (plan.pci()) {
                    pciSlots.put(address, plan.id());
                } else {
                    TreeMap<Integer, String> windows = mmioSlots.computeIfAbsent(address, a -> new TreeMap<>());
                    if (!keys.containsKey("window")) {
                        keys.put("window", String.valueOf(windows.isEmpty() ? 0 : windows.lastKey() + 1));
                        plan = InstancePlan.of(keys);
                    }
                    String other = windows.putIfAbsent(plan.window(), plan.id());
                    if (other != null) {
                        throw new InstanceConfigException("device " + plan.id() + ": window: window=" + plan.window()
                                + " of slot=" + plan.slot() + " of the QEMU on qmp=" + plan.qmp() + " is already device "
                                + other + "'s");
                    }
                }
                String qtest = qtests.putIfAbsent(qmp, plan.qtest());
                if (qtest != null && !qtest.equals(plan.qtest())) {
                    throw new InstanceConfigException("device " + plan.id() + ": qtest: the devices of the QEMU on qmp="
                            + plan.qmp() + " name different qtest sockets ('" + qtest + "', '" + plan.qtest() + "')");
                }
            } else if (!sockets.add(Path.of(plan.socket()).toAbsolutePath().normalize())) {
                // one socket, one device, whichever side listens: QEMU serves one back end per chardev
                throw new InstanceConfigException("device " + plan.id() + ": socket: two devices "
                        + (plan.client() ? "connect to" : "listen on") + " socket=" + plan.socket());
            }
            Object mac = plan.device().properties().get("mac");
            if (mac != null && !macs.add(mac)) {
                throw new InstanceConfigException("device " + plan.id() + ": mac: two devices have mac=" + mac);
            }
            plans.add(plan);
        }
        mmioSlots.forEach((address, windows) -> {
            int expected = 0;
            for (Map.Entry<Integer, String> w : windows.entrySet()) {
                if (w.getKey() != expected) {
                    throw new InstanceConfigException("device " + w.getValue() + ": window: window=" + w.getKey()
                            + " of slot=" + address.slot() + " leaves window " + expected + " empty (the windows of a"
                            + " slot are 0 to n-1)");
                }
                expected++;
            }
        });
        return plans;
    }

    /**
     * The mmio slots of {@code plans} ({@link #commandLine} checked them): per QEMU (its QMP socket,
     * absolute) in first-use order, per slot in first-use order, the devices in window order. What
     * the SSDT declares, and what the container attaches.
     */
    public static Map<Path, Map<Integer, List<InstancePlan>>> mmioSlots(List<InstancePlan> plans) {
        Map<Path, Map<Integer, List<InstancePlan>>> out = new LinkedHashMap<>();
        for (InstancePlan p : plans) {
            if (p.mmio()) {
                out.computeIfAbsent(Path.of(p.qmp()).toAbsolutePath().normalize(), q -> new LinkedHashMap<>())
                        .computeIfAbsent(p.slot(), s -> new ArrayList<>()).add(p);
            }
        }
        out.values().forEach(slots -> slots.values().forEach(
                windows -> windows.sort(Comparator.comparingInt(InstancePlan::window))));
        return out;
    }

    /** A slot of one QEMU, named by its QMP socket. */
    private record PciAddress(Path qmp, int slot) {
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
                "  transport=vhost-user|pci|mmio  vhost-user (default): QEMU's vhost-user front end on a socket;",
                "                   pci: a virtio-pci function of a QEMU started with -S, attached over QMP;",
                "                   mmio: a virtio-mmio device in such a QEMU (declared by --mmio-ssdt's table)",
                "",
                "transport=vhost-user (blk and net):",
                "  socket=PATH      the vhost-user socket to listen on, or with client=on to connect to (required)",
                "  client=on|off    on: connect to QEMU's listening socket (server=on), reconnecting",
                "                   whenever QEMU is not there; off: listen (default off)",
                "  reconnect=SECS   client=on only: seconds between connection attempts, 1 to "
                        + InstancePlan.MAX_RECONNECT_SECONDS + " (default 1)",
                "  drain_ms=MS      container only: how long a replaced device may take to finish its",
                "                   requests, 0 to 600000 (default 5000)",
                "",
                "transport=pci (container only; every type): QEMU started with -S -qmp unix:QMP,server=on,wait=off",
                "  qmp=PATH         QEMU's QMP socket (required); the guest is resumed once every device naming",
                "                   this socket is attached",
                "  qtest=PATH       QEMU's qtest socket (-qtest unix:PATH,server=on,wait=off), through which",
                "                   interrupts go without KVM; leave out with KVM (irqfd)",
                "  slot=N           the PCI slot on bus 0, " + InstancePlan.MIN_SLOT + " to " + InstancePlan.MAX_SLOT
                        + ", one device per slot of a QEMU (required)",
                "",
                "transport=mmio (container only; every type): as pci, with -acpitable file=FILE from --mmio-ssdt",
                "  qmp=PATH, qtest=PATH  as for pci",
                "  slot=N           the PCI slot whose BAR holds the register windows, " + InstancePlan.MIN_SLOT
                        + " to " + InstancePlan.MAX_SLOT + "; mmio devices",
                "                   naming one slot share it, one window each; not a pci device's slot (required)",
                "  window=N         the device's window in the slot, 0 to " + InstancePlan.MAX_WINDOW + " (on the command line",
                "                   the default is the next in order; conf/ files: default 0); a slot's windows",
                "                   are 0 to n-1, each one device's",
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
                "",
                "console (virtio-console, transport=pci or mmio only: QEMU 7.2 has no vhost-user console front end;",
                "its port 0 is the guest's hvc0):",
                "  backend=KIND     socket (default): a UNIX socket one client at a time attaches to (socat);",
                "                   log: guest output appended to a file; memory: kept in the JVM (tests)",
                "  path=PATH        the socket (created) or the log file (required for socket and log)",
                "  name=NAME        the port's name in the guest (/sys/class/virtio-ports/*/name)",
                "  cols=N           the console's width the guest reads, 1 to 65535 (default 80)",
                "  rows=N           the console's height, 1 to 65535 (default 24)",
                "  packed=on|off    offer packed rings (default on)",
                "",
                "balloon (virtio-balloon, transport=pci or mmio only: QEMU 7.2 has no vhost-user balloon front end):",
                "  target=SIZE      the balloon size the guest is asked to give back: 4 KiB pages, or a size",
                "                   with K, M, G, T in whole pages (default 0); change it on a running",
                "                   instance (edit its conf/ file, or virtio:balloon ID MIB in the shell)",
                "  stats_period=SECS seconds between memory statistics samples, 0 (only on request) to "
                        + BalloonType.MAX_STATS_PERIOD + " (default 10)",
                "  deflate_on_oom=on|off  the guest may take pages back when it runs out (default on)",
                "  free_page_hint=on|off  offer free page hinting (default on)",
                "  page_reporting=on|off  offer free page reporting; reported pages are released (default on)",
                "  packed=on|off    offer packed rings (default on)",
                "",
                "on|off also takes true|false and yes|no. A comma inside a value is written ',,' (as in QEMU).");
    }

    /** Every key {@link #keyHelp()} documents, per type (common keys under {@code ""}): for tests of the text. */
    static Map<String, Set<String>> keysByType() {
        Map<String, Set<String>> keys = new LinkedHashMap<>();
        keys.put("", InstancePlan.commonKeys());
        keys.put("blk", new BlkType().keys());
        keys.put("net", new NetType().keys());
        keys.put("console", new ConsoleType().keys());
        keys.put("balloon", new BalloonType().keys());
        return keys;
    }
}
