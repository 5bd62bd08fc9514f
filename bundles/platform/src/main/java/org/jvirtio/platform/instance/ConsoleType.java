package org.jvirtio.platform.instance;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * virtio-console instances (transport=pci only): one port, the guest's {@code hvc0}, on a
 * {@code backend=socket} (a UNIX socket one client at a time attaches to, e.g. with socat; the
 * default), {@code log} (guest output appended to a file) or {@code memory} (kept in the JVM, for
 * tests); {@code path}, {@code name} (the port's name in the guest's sysfs), {@code cols}/{@code rows}
 * (the console size the guest reads), {@code packed}.
 */
final class ConsoleType implements DeviceType {
    static final String DEVICE_PID = "org.jvirtio.console.device";
    /** Backend name to factory PID. */
    static final Map<String, String> BACKENDS = Map.of(
            "socket", "org.jvirtio.console.backend.socket",
            "log", "org.jvirtio.console.backend.log",
            "memory", "org.jvirtio.console.backend.memory");
    /** A port name as the guest shows it in /sys/class/virtio-ports/.../name and /dev/virtio-ports/. */
    private static final Pattern PORT_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    /** cols and rows are 16-bit fields of the configuration space. */
    static final int MAX_CELLS = 0xFFFF;

    @Override
    public String name() {
        return "console";
    }

    @Override
    public Set<String> keys() {
        return Set.of("backend", "path", "name", "cols", "rows", "packed");
    }

    @Override
    public boolean pciOnly() {
        return true;
    }

    @Override
    public String backendName(InstanceKeys keys) {
        return keys.choice("backend", "socket", BACKENDS.keySet());
    }

    @Override
    public String backendTarget() {
        return "backends.target";
    }

    @Override
    public ComponentConfig backend(InstanceKeys keys) {
        String backend = backendName(keys);
        Map<String, Object> p = new HashMap<>();
        p.put("port", 0);
        if (backend.equals("memory")) {
            if (keys.has("path")) {
                throw keys.error("path", "backend=memory has no path");
            }
        } else {
            p.put("path", keys.path("path"));
        }
        return new ComponentConfig(BACKENDS.get(backend), p);
    }

    @Override
    public ComponentConfig device(InstanceKeys keys) {
        Map<String, Object> p = new HashMap<>();
        p.put("ports", 1);
        p.put("consolePort", 0);
        p.put("backends.cardinality.minimum", 1);
        if (keys.has("name")) {
            String name = keys.required("name");
            if (!PORT_NAME.matcher(name).matches()) {
                throw keys.error("name", "'" + name + "' is not a port name (a letter or digit, then up to 63"
                        + " letters, digits, '.', '_', '-')");
            }
            p.put("names", name); // DS reads a single value as the array of port 0's name
        }
        p.put("cols", keys.number("cols", 80, 1, MAX_CELLS));
        p.put("rows", keys.number("rows", 24, 1, MAX_CELLS));
        p.put("packed", keys.flag("packed", true));
        return new ComponentConfig(DEVICE_PID, p);
    }
}
