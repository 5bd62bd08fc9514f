package org.jvirtio.distribution.container;

import java.util.List;

import org.jvirtio.platform.instance.ComponentConfig;
import org.jvirtio.platform.instance.InstancePlan;

/**
 * The QEMU options that attach a guest to the container's devices: shared guest memory (vhost-user
 * needs it shareable: a memfd with share=on) and, per device, its socket and PCI device, with what the
 * device offers (queues, net's address, MTU, packed rings, mergeable buffers).
 */
final class QemuCommandLine {
    static final String GUEST_MEMORY = "1G";

    private QemuCommandLine() {
    }

    static String of(List<InstancePlan> devices) {
        StringBuilder b = new StringBuilder("-object memory-backend-memfd,id=mem,size=" + GUEST_MEMORY
                + ",share=on -numa node,memdev=mem");
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
