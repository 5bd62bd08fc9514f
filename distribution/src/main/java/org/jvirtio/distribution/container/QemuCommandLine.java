package org.jvirtio.distribution.container;

import java.util.List;
import java.util.Map;

/**
 * The QEMU options that attach a guest to the container's devices: shared guest memory (vhost-user
 * needs it shareable: a memfd with share=on) and, per device, its socket and PCI device.
 */
final class QemuCommandLine {
    static final String GUEST_MEMORY = "1G";

    private QemuCommandLine() {
    }

    /** @param devices the keys of each device, as {@code DeviceSpecs.parse} gives them */
    static String of(List<Map<String, String>> devices) {
        StringBuilder b = new StringBuilder("-object memory-backend-memfd,id=mem,size=" + GUEST_MEMORY
                + ",share=on -numa node,memdev=mem");
        for (Map<String, String> d : devices) {
            String id = d.get("id");
            boolean client = "on".equals(d.get("client")) || "true".equals(d.get("client"));
            // jvirtio listening: QEMU reconnects if the container restarts; jvirtio connecting: QEMU listens
            b.append(" \\\n  -chardev socket,id=c-").append(id).append(",path=").append(d.get("socket"))
                    .append(client ? ",server=on,wait=off" : ",reconnect=1");
            int queues = Integer.parseInt(d.getOrDefault("queues", "1"));
            if ("blk".equals(d.get("type"))) {
                b.append(" -device vhost-user-blk-pci,id=").append(id).append(",chardev=c-").append(id)
                        .append(",num-queues=").append(queues);
            } else {
                b.append(" -netdev vhost-user,id=").append(id).append(",chardev=c-").append(id);
                if (queues > 1) {
                    b.append(",queues=").append(queues);
                }
                b.append(" -device virtio-net-pci,netdev=").append(id);
                if (d.containsKey("mac")) {
                    b.append(",mac=").append(d.get("mac"));
                }
                if (queues > 1) {
                    b.append(",mq=on");
                }
            }
        }
        return b.toString();
    }
}
