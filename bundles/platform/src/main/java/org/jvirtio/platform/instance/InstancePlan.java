package org.jvirtio.platform.instance;

import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one device instance is made of: a backend, a device over it and a transport serving the
 * device, each a factory configuration of its bundle's component. Built from the instance's keys, all
 * checked at once, so a bad instance creates nothing. This is the one place that defines the keys of a
 * device, their defaults and their checks: the container turns a plan into configurations, the plain
 * launcher reads its typed values (public for it).
 *
 * <p>Common keys: {@code id}, {@code type} ({@code blk}, {@code net}, {@code console},
 * {@code balloon}), {@code transport} ({@code vhost-user}, {@code pci} or {@code mmio}). vhost-user adds
 * {@code socket}, {@code client} ({@code on}: connect to QEMU's socket), {@code reconnect} (seconds
 * between client-mode attempts; only with {@code client=on}), {@code drain_ms} (how long a replaced
 * device may take to finish its requests); pci adds {@code qmp}, {@code qtest} and {@code slot}, mmio
 * the same and {@code window} (its register window in the slot's BAR; console and balloon only exist
 * over pci or mmio). The type adds its own ({@link BlkType}, {@link NetType},
 * {@link ConsoleType}, {@link BalloonType}).
 *
 * @param id          the device's name
 * @param type        {@code blk}, {@code net}, {@code console} or {@code balloon}
 * @param backendName the {@code backend} in effect ({@code file}, {@code memory}, {@code null};
 *                    {@code switch}, {@code sink}, {@code tap}; {@code socket}, {@code log}; {@code none}
 *                    for balloon, which has no backend)
 * @param backend     the backend's configuration, null for a type without one (balloon)
 * @param keys        the keys the plan was made from
 */
public record InstancePlan(String id, String type, String backendName, Map<String, String> keys,
        ComponentConfig backend, ComponentConfig device, ComponentConfig transport) {
    static final String TRANSPORT_PID = "org.jvirtio.vhostuser.transport";
    static final String PCI_TRANSPORT_PID = "org.jvirtio.pci.transport";
    static final String MMIO_TRANSPORT_PID = "org.jvirtio.mmio.transport";
    /** The device service property the transport's {@code device.target} selects on. */
    static final String ID_PROPERTY = "jvirtio.id";
    /** The longest pause between client-mode connection attempts: an hour (a larger value is a typo). */
    public static final int MAX_RECONNECT_SECONDS = 3600;
    /** PCI slots on bus 0 a device may take (slot 0 is the host bridge's). */
    public static final int MIN_SLOT = 1;
    public static final int MAX_SLOT = 31;
    /** The highest mmio window of one slot's BAR (its function serves at most 64 windows). */
    public static final int MAX_WINDOW = 63;
    private static final List<DeviceType> TYPES = List.of(new BlkType(), new NetType(), new ConsoleType(),
            new BalloonType());
    private static final Set<String> COMMON = Set.of("id", "type", "transport");
    private static final Set<String> VHOST_USER = Set.of("socket", "client", "reconnect", "drain_ms");
    private static final Set<String> PCI = Set.of("qmp", "qtest", "slot");
    private static final Set<String> MMIO = Set.of("qmp", "qtest", "slot", "window");

    public InstancePlan {
        keys = Collections.unmodifiableMap(new LinkedHashMap<>(keys)); // in the order given
    }

    /** @throws InstanceConfigException naming the instance and the key at fault */
    public static InstancePlan of(Map<String, String> given) {
        InstanceKeys keys = new InstanceKeys(given);
        DeviceType type = type(keys);
        String transport = keys.choice("transport", "vhost-user", Set.of("vhost-user", "pci", "mmio"));
        boolean pci = transport.equals("pci");
        boolean mmio = transport.equals("mmio");
        if (!pci && !mmio && type.pciOnly()) {
            throw keys.error("transport", "a " + type.name() + " device needs transport=pci or transport=mmio (QEMU 7.2 has"
                    + " no vhost-user front end for virtio-console or virtio-balloon)");
        }
        Set<String> own = pci ? PCI : mmio ? MMIO : VHOST_USER;
        Set<String> others = new HashSet<>(VHOST_USER);
        others.addAll(MMIO);
        others.removeAll(own);
        for (String other : new java.util.TreeSet<>(others)) {
            if (keys.has(other)) {
                throw keys.error(other, VHOST_USER.contains(other)
                        ? "a vhost-user key; transport=" + transport + " takes " + (pci ? "qmp, qtest and slot" : "qmp, qtest, slot and window")
                        : other.equals("window") && pci ? "only with transport=mmio"
                        : "only with transport=pci or transport=mmio");
            }
        }
        Set<String> known = new HashSet<>(COMMON);
        known.addAll(own);
        known.addAll(type.keys());
        keys.rejectUnknown(known);
        ComponentConfig backend = type.backend(keys);
        ComponentConfig device = type.device(keys);
        Map<String, Object> d = new HashMap<>(device.properties());
        d.put(ID_PROPERTY, keys.id());
        Map<String, Object> t = pci || mmio ? pciTransport(keys) : vhostUserTransport(keys);
        if (mmio) {
            t.put("window", keys.number("window", 0, 0, MAX_WINDOW));
        }
        t.put("device.target", "(" + ID_PROPERTY + "=" + keys.id() + ")");
        t.put(ID_PROPERTY, keys.id()); // the transport registers the served device under this name
        return new InstancePlan(keys.id(), type.name(), type.backendName(keys), given, backend,
                new ComponentConfig(device.factoryPid(), d),
                new ComponentConfig(pci ? PCI_TRANSPORT_PID : mmio ? MMIO_TRANSPORT_PID : TRANSPORT_PID, t));
    }

    private static Map<String, Object> vhostUserTransport(InstanceKeys keys) {
        boolean client = keys.flag("client", false);
        if (!client && keys.has("reconnect")) {
            throw keys.error("reconnect", "only with client=on (as a server, jvirtio waits and QEMU reconnects)");
        }
        Map<String, Object> t = new HashMap<>();
        t.put("socket", keys.path("socket"));
        t.put("client", client);
        t.put("reconnect", keys.number("reconnect", 1, 1, MAX_RECONNECT_SECONDS));
        t.put("drainMillis", (long) keys.number("drain_ms", 5000, 0, 600_000));
        return t;
    }

    private static Map<String, Object> pciTransport(InstanceKeys keys) {
        Map<String, Object> t = new HashMap<>();
        t.put("qmp", keys.path("qmp"));
        t.put("qtest", keys.has("qtest") ? keys.path("qtest") : "");
        if (!keys.has("slot")) {
            throw keys.error("slot", "missing (the PCI slot, " + MIN_SLOT + " to " + MAX_SLOT
                    + ", not used by another device of that QEMU)");
        }
        t.put("slot", keys.number("slot", 0, MIN_SLOT, MAX_SLOT));
        return t;
    }

    /** The {@code type} values. */
    static boolean isType(String name) {
        return TYPES.stream().anyMatch(t -> t.name().equals(name));
    }

    /** The keys every type takes ({@code type} among them), with those of every transport. */
    static Set<String> commonKeys() {
        Set<String> all = new HashSet<>(COMMON);
        all.addAll(VHOST_USER);
        all.addAll(MMIO);
        return all;
    }

    private static DeviceType type(InstanceKeys keys) {
        String name = keys.text("type", "");
        for (DeviceType t : TYPES) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw keys.error("type", name.isEmpty() ? "missing (" + TYPE_NAMES + ")" : "'" + name + "' is not " + TYPE_NAMES);
    }

    /** The {@code type} values, for messages. */
    static final String TYPE_NAMES = "blk, net, console or balloon";

    /** The keys of {@code transport=vhost-user}. */
    static Set<String> vhostUserKeys() {
        return VHOST_USER;
    }

    /** The keys of {@code transport=pci}. */
    static Set<String> pciKeys() {
        return PCI;
    }

    /** The keys of {@code transport=mmio}. */
    static Set<String> mmioKeys() {
        return MMIO;
    }

    /** The device property that selects its backend's tag ({@code backend.target}, console: {@code backends.target}). */
    String backendTarget() {
        return TYPES.stream().filter(t -> t.name().equals(type)).findFirst().orElseThrow().backendTarget();
    }

    /** Whether the device is served over virtio-pci to a QEMU ({@code transport=pci}). */
    public boolean pci() {
        return transport.factoryPid().equals(PCI_TRANSPORT_PID);
    }

    /** Whether the device is served over virtio-mmio in a proxied PCI slot of a QEMU ({@code transport=mmio}). */
    public boolean mmio() {
        return transport.factoryPid().equals(MMIO_TRANSPORT_PID);
    }

    /** Whether jvirtio attaches the device to a paused QEMU over QMP ({@code transport=pci} or {@code mmio}). */
    public boolean qemuAttached() {
        return pci() || mmio();
    }

    /** transport=mmio: the device's register window in its slot's BAR (the SSDT's window of that index). */
    public int window() {
        return transport.get("window", Integer.class);
    }

    /** transport=pci or mmio: QEMU's QMP socket. */
    public String qmp() {
        return transport.get("qmp", String.class);
    }

    /** transport=pci: QEMU's qtest socket, {@code ""} for none. */
    public String qtest() {
        return transport.get("qtest", String.class);
    }

    /** transport=pci: the PCI slot. */
    public int slot() {
        return transport.get("slot", Integer.class);
    }

    /** The vhost-user socket: where jvirtio listens, or with {@link #client()} where QEMU listens. */
    public String socket() {
        return transport.get("socket", String.class);
    }

    /** Client mode: QEMU listens on {@link #socket()} ({@code server=on}) and jvirtio connects. */
    public boolean client() {
        return transport.get("client", Boolean.class);
    }

    /** In client mode, seconds between connection attempts. */
    public int reconnectSeconds() {
        return transport.get("reconnect", Integer.class);
    }
}
