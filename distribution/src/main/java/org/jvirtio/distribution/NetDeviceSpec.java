package org.jvirtio.distribution;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One {@code --device net,...} as parsed: what to serve and where. Pure data; nothing is opened.
 *
 * @param id         the device's name
 * @param socket     the vhost-user socket: where jvirtio listens, or with {@code client} where QEMU listens
 * @param backend    where the frames go
 * @param switchName the switch to plug into ({@link Backend#SWITCH} only, else null); devices with the
 *                   same name share one switch
 * @param ifname     the TAP interface ({@link Backend#TAP} only, else null)
 * @param mac        the device's address, lower case ({@code 52:54:00:12:34:56})
 * @param mtu        the largest payload offered (MTU feature; QEMU's {@code host_mtu=})
 * @param queuePairs receive/transmit queue pairs; more than one offers MQ
 * @param packed     whether RING_PACKED is offered
 * @param mergeable  whether MRG_RXBUF is offered
 * @param client     client mode: QEMU listens on {@code socket} ({@code server=on}) and jvirtio connects
 * @param reconnectSeconds in client mode, the pause between connection attempts (at least 1)
 */
public record NetDeviceSpec(String id, Path socket, Backend backend, String switchName, String ifname, String mac,
        int mtu, int queuePairs, boolean packed, boolean mergeable, boolean client, int reconnectSeconds)
        implements DeviceSpec {

    public static final int DEFAULT_MTU = 1500;

    /** The {@code backend=} values. */
    public enum Backend {
        /** A port on the in-JVM learning L2 switch of that name. */
        SWITCH,
        /** Counts and discards what the guest sends, delivers nothing. */
        SINK,
        /** A Linux TAP interface: the host's network stack. */
        TAP
    }

    public NetDeviceSpec {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(mac, "mac");
        if ((backend == Backend.SWITCH) != (switchName != null)) {
            throw new IllegalArgumentException("a switch name goes with backend=switch, and only with it");
        }
        if ((backend == Backend.TAP) != (ifname != null)) {
            throw new IllegalArgumentException("an interface name goes with backend=tap, and only with it");
        }
        if (reconnectSeconds < 1) {
            throw new IllegalArgumentException("reconnectSeconds must be positive: " + reconnectSeconds);
        }
    }

    @Override
    public String type() {
        return "net";
    }
}
