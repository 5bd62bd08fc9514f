package org.jvirtio.platform.instance;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * virtio-blk instances: {@code backend=file|memory|null} (default: file with a path, else memory),
 * {@code path}, {@code size}, {@code readonly}, {@code queues}, {@code packed}.
 */
final class BlkType implements DeviceType {
    /** QEMU's own limit on virtio queues per device (VIRTIO_QUEUE_MAX). */
    static final int MAX_QUEUES = 1024;
    /** A memory disk is one Java buffer: at most 2 GiB - 1, rounded down to whole sectors. */
    static final long MAX_MEMORY_SIZE = Integer.MAX_VALUE & ~511L;
    static final String DEVICE_PID = "org.jvirtio.blk.device";
    /** Backend name to factory PID. */
    static final Map<String, String> BACKENDS = Map.of(
            "file", "org.jvirtio.blk.backend.file",
            "memory", "org.jvirtio.blk.backend.memory",
            "null", "org.jvirtio.blk.backend.null");

    @Override
    public String name() {
        return "blk";
    }

    @Override
    public Set<String> keys() {
        return Set.of("backend", "path", "size", "readonly", "queues", "packed");
    }

    @Override
    public String backendName(InstanceKeys keys) {
        return keys.choice("backend", keys.has("path") ? "file" : "memory", BACKENDS.keySet());
    }

    @Override
    public ComponentConfig backend(InstanceKeys keys) {
        String backend = backendName(keys);
        Map<String, Object> p = new HashMap<>();
        long size = keys.size("size");
        p.put("readOnly", keys.flag("readonly", false));
        if (backend.equals("file")) {
            p.put("path", keys.path("path"));
            if (size > 0) {
                p.put("size", size);
                p.put("create", true); // created sparse if missing, as the launcher does
            }
        } else {
            if (keys.has("path")) {
                throw keys.error("path", "only backend=file has a path");
            }
            if (size == 0) {
                throw keys.error("size", "missing (backend=" + backend + " needs size=BYTES)");
            }
            if (backend.equals("memory") && size > MAX_MEMORY_SIZE) {
                throw keys.error("size", size + " bytes: a memory disk holds at most " + MAX_MEMORY_SIZE);
            }
            p.put("size", size);
        }
        return new ComponentConfig(BACKENDS.get(backend), p);
    }

    @Override
    public ComponentConfig device(InstanceKeys keys) {
        Map<String, Object> p = new HashMap<>();
        p.put("serial", keys.id().length() <= 20 ? keys.id() : keys.id().substring(0, 20));
        p.put("queues", keys.number("queues", 1, 1, MAX_QUEUES));
        p.put("readOnly", keys.flag("readonly", false));
        p.put("packed", keys.flag("packed", true));
        return new ComponentConfig(DEVICE_PID, p);
    }
}
