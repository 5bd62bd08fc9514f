package org.jvirtio.distribution;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One {@code --device blk,...} as parsed: what to serve and where. Pure data; nothing is opened.
 *
 * @param id       the device's name (also its GET_ID serial)
 * @param socket   the vhost-user socket: where jvirtio listens, or with {@code client} where QEMU listens
 * @param backend  where the sectors live
 * @param path     the image file ({@link Backend#FILE} only, else null)
 * @param size     bytes of disk, a multiple of 512; 0 = not given (a file's own size)
 * @param readOnly whether the guest may only read
 * @param queues   request queues offered (num-queues)
 * @param packed   whether RING_PACKED is offered
 * @param client   client mode: QEMU listens on {@code socket} ({@code server=on}) and jvirtio connects
 * @param reconnectSeconds in client mode, the pause between connection attempts (at least 1)
 */
public record BlkDeviceSpec(String id, Path socket, Backend backend, Path path, long size, boolean readOnly,
        int queues, boolean packed, boolean client, int reconnectSeconds) implements DeviceSpec {

    /** The {@code backend=} values. */
    public enum Backend {
        /** A raw image file (created sparse if missing and {@code size=} is given). */
        FILE,
        /** A RAM disk of {@code size=} bytes, zeroed, lost at exit. */
        MEMORY,
        /** Reads return zeroes, writes are dropped: {@code size=} bytes that store nothing. */
        NULL
    }

    public BlkDeviceSpec {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(backend, "backend");
        if ((backend == Backend.FILE) != (path != null)) {
            throw new IllegalArgumentException("a path goes with backend=file, and only with it");
        }
        if (reconnectSeconds < 1) {
            throw new IllegalArgumentException("reconnectSeconds must be positive: " + reconnectSeconds);
        }
    }

    @Override
    public String type() {
        return "blk";
    }

    /** A device in server mode (jvirtio listens on {@code socket}) that offers packed rings: the defaults. */
    public BlkDeviceSpec(String id, Path socket, Backend backend, Path path, long size, boolean readOnly, int queues) {
        this(id, socket, backend, path, size, readOnly, queues, true, false, DEFAULT_RECONNECT_SECONDS);
    }
}
