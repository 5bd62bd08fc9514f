package org.jvirtio.distribution;

import java.nio.file.Path;

/**
 * One {@code --device TYPE,...} as parsed: pure data, nothing opened. What every device type has: a
 * name and a vhost-user socket that jvirtio listens on, or with {@code client} connects to.
 */
public sealed interface DeviceSpec permits BlkDeviceSpec, NetDeviceSpec {
    /** Client mode's default pause between connection attempts, in seconds (QEMU's reconnect= unit). */
    int DEFAULT_RECONNECT_SECONDS = 1;

    /** The device type as written on the command line: {@code blk}, {@code net}. */
    String type();

    /** The device's name (a letter, then letters, digits, '-', '.', '_'). */
    String id();

    /** The vhost-user socket: where jvirtio listens, or with {@link #client()} where QEMU listens. */
    Path socket();

    /** Client mode: QEMU listens on {@link #socket()} ({@code server=on}) and jvirtio connects. */
    boolean client();

    /** In client mode, the pause between connection attempts (at least 1). */
    int reconnectSeconds();
}
