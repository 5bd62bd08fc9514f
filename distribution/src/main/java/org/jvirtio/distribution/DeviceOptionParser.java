package org.jvirtio.distribution;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.jvirtio.platform.instance.ComponentConfig;
import org.jvirtio.platform.instance.DeviceSpecs;
import org.jvirtio.platform.instance.InstanceConfigException;
import org.jvirtio.platform.instance.InstancePlan;

/**
 * The plain launcher's command line: {@code --device TYPE,key=value,...} (or {@code --device=...})
 * once per device. The keys, their defaults and their checks are the platform's, the same as the
 * container's and as an instance file's in {@code conf/} ({@link DeviceSpecs}, {@link InstancePlan});
 * this class reads the checked values into {@link BlkDeviceSpec} and {@link NetDeviceSpec}. Every
 * error is a {@link UsageException} whose message names the device and the key.
 */
public final class DeviceOptionParser {

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
        List<String> specs = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.equals("--device")) {
                if (i + 1 >= args.size()) {
                    throw new UsageException("--device needs a value, e.g. --device blk,socket=PATH,path=IMG");
                }
                specs.add(args.get(++i));
            } else if (arg.startsWith("--device=")) {
                specs.add(arg.substring("--device=".length()));
            } else {
                throw new UsageException("unknown argument '" + arg + "' (try --help)");
            }
        }
        if (specs.isEmpty()) {
            throw new UsageException("no --device given (try --help)");
        }
        List<DeviceSpec> devices = new ArrayList<>();
        try {
            for (InstancePlan plan : DeviceSpecs.commandLine(specs)) {
                devices.add(spec(plan));
            }
        } catch (InstanceConfigException e) {
            throw new UsageException(e.getMessage());
        }
        return devices;
    }

    /** The launcher's view of one checked device. */
    static DeviceSpec spec(InstancePlan plan) throws UsageException {
        if (plan.qemuAttached() || !(plan.type().equals("blk") || plan.type().equals("net"))) {
            // the PCI and mmio transports and the console and balloon devices are bundles only the container runs
            throw new UsageException("device " + plan.id() + ": transport: only the container (jvirtio.jar) attaches"
                    + " devices over transport=pci or transport=mmio, and serves console and balloon devices");
        }
        if (plan.keys().containsKey("drain_ms")) {
            // the plain launcher never replaces a device under its transport, so nothing would drain
            throw new UsageException("device " + plan.id() + ": drain_ms: only the container (jvirtio.jar) swaps"
                    + " devices");
        }
        ComponentConfig backend = plan.backend();
        ComponentConfig device = plan.device();
        Path socket = Path.of(plan.socket());
        if (plan.type().equals("blk")) {
            BlkDeviceSpec.Backend kind = BlkDeviceSpec.Backend.valueOf(plan.backendName().toUpperCase(Locale.ROOT));
            Object path = backend.properties().get("path");
            Object size = backend.properties().get("size");
            return new BlkDeviceSpec(plan.id(), socket, kind, path == null ? null : Path.of((String) path),
                    size == null ? 0 : (Long) size, device.get("readOnly", Boolean.class),
                    device.get("queues", Integer.class), device.get("packed", Boolean.class), plan.client(),
                    plan.reconnectSeconds());
        }
        NetDeviceSpec.Backend kind = NetDeviceSpec.Backend.valueOf(plan.backendName().toUpperCase(Locale.ROOT));
        return new NetDeviceSpec(plan.id(), socket, kind, (String) backend.properties().get("name"),
                (String) backend.properties().get("ifname"), device.get("mac", String.class),
                device.get("mtu", Integer.class), device.get("queues", Integer.class),
                device.get("packed", Boolean.class), device.get("mergeable", Boolean.class), plan.client(),
                plan.reconnectSeconds());
    }

    /** The usage text of {@code --help}. */
    public static String usage() {
        return String.join(System.lineSeparator(),
                "usage: java -jar jvirtio-launcher.jar --device blk,socket=PATH,path=IMAGE[,KEY=VALUE...] [--device ...]",
                "       java -jar jvirtio-launcher.jar --device net,socket=PATH,switch=NAME[,KEY=VALUE...] [--device ...]",
                "",
                "The plain launcher (no OSGi): serves each device as a vhost-user back end on its socket and",
                "prints the QEMU options that attach a guest. Stop with SIGTERM or Ctrl-C (backends are flushed",
                "and closed). With client=on, QEMU listens on the socket (server=on) and jvirtio connects to it.",
                "The same keys as java -jar jvirtio.jar (the container), which also swaps devices live.",
                "",
                DeviceSpecs.keyHelp());
    }
}
