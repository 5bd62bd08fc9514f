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
 * <p>Common keys: {@code id}, {@code type} ({@code blk}, {@code net}), {@code transport}
 * ({@code vhost-user}), {@code socket}, {@code client} ({@code on}: connect to QEMU's socket),
 * {@code reconnect} (seconds between client-mode attempts; only with {@code client=on}),
 * {@code drain_ms} (how long a replaced device may take to finish its requests). The type adds its own
 * ({@link BlkType}, {@link NetType}).
 *
 * @param id          the device's name
 * @param type        {@code blk} or {@code net}
 * @param backendName the {@code backend} in effect ({@code file}, {@code memory}, {@code null};
 *                    {@code switch}, {@code sink}, {@code tap})
 * @param keys        the keys the plan was made from
 */
public record InstancePlan(String id, String type, String backendName, Map<String, String> keys,
        ComponentConfig backend, ComponentConfig device, ComponentConfig transport) {
    static final String TRANSPORT_PID = "org.jvirtio.vhostuser.transport";
    /** The device service property the transport's {@code device.target} selects on. */
    static final String ID_PROPERTY = "jvirtio.id";
    /** The longest pause between client-mode connection attempts: an hour (a larger value is a typo). */
    public static final int MAX_RECONNECT_SECONDS = 3600;
    private static final List<DeviceType> TYPES = List.of(new BlkType(), new NetType());
    private static final Set<String> COMMON = Set.of("id", "type", "transport", "socket", "client", "reconnect",
            "drain_ms");

    public InstancePlan {
        keys = Collections.unmodifiableMap(new LinkedHashMap<>(keys)); // in the order given
    }

    /** @throws InstanceConfigException naming the instance and the key at fault */
    public static InstancePlan of(Map<String, String> given) {
        InstanceKeys keys = new InstanceKeys(given);
        DeviceType type = type(keys);
        Set<String> known = new HashSet<>(COMMON);
        known.addAll(type.keys());
        keys.rejectUnknown(known);
        keys.choice("transport", "vhost-user", Set.of("vhost-user"));
        ComponentConfig backend = type.backend(keys);
        ComponentConfig device = type.device(keys);
        Map<String, Object> d = new HashMap<>(device.properties());
        d.put(ID_PROPERTY, keys.id());
        boolean client = keys.flag("client", false);
        if (!client && keys.has("reconnect")) {
            throw keys.error("reconnect", "only with client=on (as a server, jvirtio waits and QEMU reconnects)");
        }
        Map<String, Object> t = new HashMap<>();
        t.put("socket", keys.path("socket"));
        t.put("client", client);
        t.put("reconnect", keys.number("reconnect", 1, 1, MAX_RECONNECT_SECONDS));
        t.put("drainMillis", (long) keys.number("drain_ms", 5000, 0, 600_000));
        t.put("device.target", "(" + ID_PROPERTY + "=" + keys.id() + ")");
        t.put(ID_PROPERTY, keys.id()); // the transport registers the served device under this name
        return new InstancePlan(keys.id(), type.name(), type.backendName(keys), given, backend,
                new ComponentConfig(device.factoryPid(), d), new ComponentConfig(TRANSPORT_PID, t));
    }

    /** The {@code type} values. */
    static boolean isType(String name) {
        return TYPES.stream().anyMatch(t -> t.name().equals(name));
    }

    /** The keys every type takes ({@code type} among them). */
    static Set<String> commonKeys() {
        return COMMON;
    }

    private static DeviceType type(InstanceKeys keys) {
        String name = keys.text("type", "");
        for (DeviceType t : TYPES) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw keys.error("type", name.isEmpty() ? "missing (blk or net)" : "'" + name + "' is not blk or net");
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
