package org.jvirtio.platform.instance;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one device instance is made of: a backend, a device over it and a transport serving the
 * device, each a factory configuration of its bundle's component. Built from the instance's keys, all
 * checked at once, so a bad instance creates nothing.
 *
 * <p>Common keys: {@code id}, {@code type} ({@code blk}, {@code net}), {@code transport}
 * ({@code vhost-user}), {@code socket}, {@code client} ({@code on}: connect to QEMU's socket),
 * {@code reconnect} (seconds between client-mode attempts), {@code drain_ms} (how long a replaced
 * device may take to finish its requests). The type adds its own ({@link BlkType}, {@link NetType}).
 */
record InstancePlan(String id, ComponentConfig backend, ComponentConfig device, ComponentConfig transport) {
    static final String TRANSPORT_PID = "org.jvirtio.vhostuser.transport";
    /** The device service property the transport's {@code device.target} selects on. */
    static final String ID_PROPERTY = "jvirtio.id";
    private static final List<DeviceType> TYPES = List.of(new BlkType(), new NetType());
    private static final Set<String> COMMON = Set.of("id", "type", "transport", "socket", "client", "reconnect",
            "drain_ms");

    /** @throws InstanceConfigException naming the instance and the key at fault */
    static InstancePlan of(Map<String, String> given) {
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
        Map<String, Object> t = new HashMap<>();
        t.put("socket", keys.required("socket"));
        t.put("client", keys.flag("client", false));
        t.put("reconnect", keys.number("reconnect", 1, 1, 3600));
        t.put("drainMillis", (long) keys.number("drain_ms", 5000, 0, 600_000));
        t.put("device.target", "(" + ID_PROPERTY + "=" + keys.id() + ")");
        t.put(ID_PROPERTY, keys.id()); // the transport registers the served device under this name
        return new InstancePlan(keys.id(), backend, new ComponentConfig(device.factoryPid(), d),
                new ComponentConfig(TRANSPORT_PID, t));
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
}
