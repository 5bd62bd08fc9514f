package org.jvirtio.platform.instance;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * virtio-net instances: {@code backend=switch|sink|tap}, {@code switch=NAME}, {@code ifname=NAME},
 * {@code mac} (default: derived from the id), {@code mtu}, {@code queues} (queue pairs), {@code packed},
 * {@code mrg_rxbuf}.
 */
final class NetType implements DeviceType {
    static final String DEVICE_PID = "org.jvirtio.net.device";
    static final Map<String, String> BACKENDS = Map.of(
            "switch", "org.jvirtio.net.backend.switch",
            "sink", "org.jvirtio.net.backend.sink",
            "tap", "org.jvirtio.net.backend.tap");
    /** QEMU's limit on virtio-net queue pairs: 2 per pair and the control queue within VIRTIO_QUEUE_MAX (1024). */
    static final int MAX_QUEUE_PAIRS = (1024 - 1) / 2;
    /** The MTU range of the virtio-net device: IPv4's minimum to what fits a 64 KiB frame with a VLAN tag. */
    static final int MIN_MTU = 68;
    static final int MAX_MTU = 65517;
    static final int DEFAULT_MTU = 1500;
    static final String DEFAULT_SWITCH = "default";
    private static final Pattern MAC = Pattern.compile("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}");
    /** Linux IFNAMSIZ - 1, without '/', whitespace or ':'. */
    private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9_.-]{1,15}");

    @Override
    public String name() {
        return "net";
    }

    @Override
    public Set<String> keys() {
        return Set.of("backend", "switch", "ifname", "mac", "mtu", "queues", "packed", "mrg_rxbuf");
    }

    @Override
    public String backendName(InstanceKeys keys) {
        return keys.choice("backend", "switch", BACKENDS.keySet());
    }

    @Override
    public ComponentConfig backend(InstanceKeys keys) {
        String backend = backendName(keys);
        Map<String, Object> p = new HashMap<>();
        if (backend.equals("switch")) {
            String name = keys.text("switch", DEFAULT_SWITCH);
            if (!InstanceKeys.ID.matcher(name).matches()) {
                throw keys.error("switch", "'" + name + "' is not a switch name (a letter, then up to 63 letters,"
                        + " digits, '-', '.', '_')");
            }
            p.put("name", name);
        } else if (keys.has("switch")) {
            throw keys.error("switch", "only backend=switch has a switch");
        }
        if (backend.equals("tap")) {
            String ifname = keys.required("ifname");
            if (!IFNAME.matcher(ifname).matches() || ifname.equals(".") || ifname.equals("..")) {
                throw keys.error("ifname", "'" + ifname
                        + "' is not an interface name (up to 15 of A-Z a-z 0-9 _ . -; not . or ..)");
            }
            p.put("ifname", ifname);
        } else if (keys.has("ifname")) {
            throw keys.error("ifname", "only backend=tap has an ifname");
        }
        return new ComponentConfig(BACKENDS.get(backend), p);
    }

    /**
     * QEMU's prefix 52:54:00 and three bytes of the id's CRC-32: the same device gets the same address at
     * every start, and devices on one switch differ (unless two ids collide in 24 bits: give mac= then).
     */
    static String defaultMac(String id) {
        CRC32 crc = new CRC32();
        crc.update(id.getBytes(StandardCharsets.UTF_8));
        long v = crc.getValue();
        return String.format("52:54:00:%02x:%02x:%02x", (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF);
    }

    @Override
    public ComponentConfig device(InstanceKeys keys) {
        Map<String, Object> p = new HashMap<>();
        if (keys.has("mac")) {
            String mac = keys.required("mac");
            if (!MAC.matcher(mac).matches() || (Integer.parseInt(mac.substring(0, 2), 16) & 1) != 0
                    || mac.equals("00:00:00:00:00:00")) {
                throw keys.error("mac", "'" + mac + "' is not a unicast address like 52:54:00:12:34:56"
                        + " (six hex bytes, the first one even, not all zero)");
            }
            p.put("mac", mac.toLowerCase(Locale.ROOT));
        } else {
            p.put("mac", defaultMac(keys.id()));
        }
        p.put("mtu", keys.number("mtu", DEFAULT_MTU, MIN_MTU, MAX_MTU));
        p.put("queues", keys.number("queues", 1, 1, MAX_QUEUE_PAIRS));
        p.put("packed", keys.flag("packed", true));
        p.put("mergeable", keys.flag("mrg_rxbuf", true));
        return new ComponentConfig(DEVICE_PID, p);
    }
}
