package org.jvirtio.distribution.container;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.jvirtio.platform.instance.ComponentConfig;
import org.jvirtio.platform.instance.InstancePlan;

/**
 * The QEMU options that attach a guest to the container's devices: shared guest memory (vhost-user
 * needs it shareable: a memfd with share=on) and, per device, its socket and PCI device, with what the
 * device offers (queues, net's address, MTU, packed rings, mergeable buffers).
 *
 * <p>Devices with {@code transport=pci} are not QEMU options: jvirtio attaches them itself over QMP
 * ({@code x-pci-proxy-dev} at their slots). Their QEMU is started paused with a QMP socket, a qtest
 * socket where they name one (interrupts without KVM), and shareable memory (the proxy maps it);
 * jvirtio resumes it once all of them are attached. One such QEMU per QMP socket. Devices with
 * {@code transport=mmio} join the same QEMU; it also needs the ACPI table declaring them, written by
 * {@code --mmio-ssdt FILE} with the same {@code --device} options.
 */
final class QemuCommandLine {
    static final String GUEST_MEMORY = "1G";

    private QemuCommandLine() {
    }

    /**
     * The options of each QEMU the devices need: the first has the vhost-user devices and the PCI
     * devices of the first QMP socket; each further QMP socket is a QEMU of its own.
     */
    static List<String> qemus(List<InstancePlan> devices) {
        Map<String, List<InstancePlan>> byQmp = new LinkedHashMap<>();
        List<InstancePlan> vhostUser = new ArrayList<>();
        for (InstancePlan d : devices) {
            if (d.qemuAttached()) {
                byQmp.computeIfAbsent(d.qmp(), k -> new ArrayList<>()).add(d);
            } else {
                vhostUser.add(d);
            }
        }
        List<String> out = new ArrayList<>();
        List<List<InstancePlan>> groups = new ArrayList<>(byQmp.values());
        if (!vhostUser.isEmpty() || groups.isEmpty()) {
            StringBuilder first = new StringBuilder(of(vhostUser));
            if (!groups.isEmpty()) {
                first.append(pci(groups.remove(0)));
            }
            out.add(first.toString());
        }
        for (List<InstancePlan> group : groups) {
            out.add(MEMORY + pci(group));
        }
        return out;
    }

    private static final String MEMORY = "-object memory-backend-memfd,id=mem,size=" + GUEST_MEMORY
            + ",share=on -numa node,memdev=mem";

    /** A paused QEMU's QMP (and qtest) options for the PCI devices of one QMP socket. */
    private static String pci(List<InstancePlan> group) {
        InstancePlan first = group.get(0);
        StringBuilder b = new StringBuilder(" \\\n  -S -qmp unix:").append(first.qmp().replace(",", ",,"))
                .append(",server=on,wait=off");
        if (!first.qtest().isEmpty()) {
            b.append(" -qtest unix:").append(first.qtest().replace(",", ",,")).append(",server=on,wait=off -qtest-log none");
        }
        if (group.stream().anyMatch(InstancePlan::mmio)) {
            b.append(" -acpitable file=SSDT");
        }
        b.append("\n  # then jvirtio attaches");
        for (InstancePlan d : group) {
            b.append(' ').append(d.type()).append(' ').append(d.id()).append(" at slot ").append(d.slot());
            if (d.mmio()) {
                b.append(" (mmio window ").append(d.window()).append(')');
            }
        }
        b.append(" and then resumes the guest");
        if (group.stream().anyMatch(InstancePlan::mmio)) {
            b.append("\n  # SSDT: the file java -jar jvirtio.jar --mmio-ssdt SSDT wrote, with these --device options");
        }
        return b.toString();
    }

    /** The vhost-user devices' options, after the shared memory. */
    static String of(List<InstancePlan> devices) {
        StringBuilder b = new StringBuilder(MEMORY);
        for (InstancePlan d : devices) {
            String id = d.id();
            ComponentConfig device = d.device();
            // jvirtio listening: QEMU reconnects if the container restarts; jvirtio connecting: QEMU listens
            b.append(" \\\n  -chardev socket,id=c-").append(id).append(",path=").append(d.socket().replace(",", ",,"))
                    .append(d.client() ? ",server=on,wait=off" : ",reconnect=1");
            int queues = device.get("queues", Integer.class);
            if (d.type().equals("blk")) {
                b.append(" -device vhost-user-blk-pci,id=").append(id).append(",chardev=c-").append(id)
                        .append(",num-queues=").append(queues);
                continue;
            }
            b.append(" -netdev vhost-user,id=").append(id).append(",chardev=c-").append(id);
            if (queues > 1) {
                b.append(",queues=").append(queues);
            }
            b.append(" -device virtio-net-pci,netdev=").append(id).append(",mac=").append(device.get("mac", String.class));
            if (queues > 1) {
                // an MSI-X vector per queue, plus config and control queue
                b.append(",mq=on,vectors=").append(2 * queues + 2);
            }
            b.append(device.get("packed", Boolean.class) ? ",packed=on" : "")
                    .append(device.get("mergeable", Boolean.class) ? "" : ",mrg_rxbuf=off");
            int mtu = device.get("mtu", Integer.class);
            if (mtu != 1500) {
                b.append(",host_mtu=").append(mtu);
            }
        }
        return b.toString();
    }
}
