package org.jvirtio.distribution;

import static org.jvirtio.distribution.DeviceOptionParser.ID;
import static org.jvirtio.distribution.DeviceOptionParser.MAX_MTU;
import static org.jvirtio.distribution.DeviceOptionParser.MAX_QUEUE_PAIRS;
import static org.jvirtio.distribution.DeviceOptionParser.MIN_MTU;
import static org.jvirtio.distribution.DeviceOptionParser.id;
import static org.jvirtio.distribution.DeviceOptionParser.number;
import static org.jvirtio.distribution.DeviceOptionParser.onOff;
import static org.jvirtio.distribution.DeviceOptionParser.reconnect;
import static org.jvirtio.distribution.DeviceOptionParser.socket;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import org.jvirtio.distribution.NetDeviceSpec.Backend;

/** The keys of {@code --device net}, checked and turned into a {@link NetDeviceSpec}. */
final class NetOptionParser {
    private static final Pattern MAC = Pattern.compile("[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}");
    /** What Linux takes as an interface name (dev_valid_name, IFNAMSIZ), kept to the portable characters. */
    private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
    /** QEMU's first default NIC address; the device at position i gets the last byte 0x56 + i. */
    private static final String DEFAULT_MAC_PREFIX = "52:54:00:12:34:";

    private NetOptionParser() {
    }

    /**
     * @param values the device's keys (known ones, each once)
     * @param index  the device's position on the command line; the default address depends on it
     */
    static NetDeviceSpec parse(Map<String, String> values, int index) throws UsageException {
        String id = id("net", values, index);
        String name = "--device net id=" + id;
        Path socket = socket(name, values);
        Backend backend = backend(name, values.getOrDefault("backend", "switch"));
        String kind = backend.name().toLowerCase(Locale.ROOT);
        String switchName = values.get("switch");
        if (backend != Backend.SWITCH && switchName != null) {
            throw new UsageException(name + ": switch= is only for backend=switch, not backend=" + kind);
        }
        if (backend == Backend.SWITCH) {
            switchName = switchName == null ? NetDeviceSpec.DEFAULT_SWITCH : switchName;
            if (!ID.matcher(switchName).matches()) {
                throw new UsageException(name + ": bad switch name '" + switchName
                        + "' (a letter, then up to 63 letters, digits, '-', '.', '_')");
            }
        }
        String ifname = values.get("ifname");
        if (backend != Backend.TAP && ifname != null) {
            throw new UsageException(name + ": ifname= is only for backend=tap, not backend=" + kind);
        }
        if (backend == Backend.TAP) {
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

    private static Backend backend(String name, String value) throws UsageException {
        switch (value) {
            case "switch":
                return Backend.SWITCH;
            case "sink":
                return Backend.SINK;
            case "tap":
                return Backend.TAP;
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
}
