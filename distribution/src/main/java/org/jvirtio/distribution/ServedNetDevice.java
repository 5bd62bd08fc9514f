package org.jvirtio.distribution;

import java.io.IOException;
import java.time.Duration;

import org.jvirtio.device.net.NetDevice;
import org.jvirtio.device.net.NetDeviceOptions;
import org.jvirtio.device.net.backend.NetBackend;
import org.jvirtio.device.net.backend.l2.SwitchBackend;
import org.jvirtio.device.net.backend.l2.SwitchRegistry;
import org.jvirtio.device.net.backend.sink.SinkBackend;
import org.jvirtio.device.net.backend.tap.TapBackend;
import org.jvirtio.transport.vhostuser.VhostUserBackend;

/**
 * One {@link NetDeviceSpec} brought to life: its net backend, the virtio-net device, the vhost-user
 * back end (listening, or with {@code client=on} connecting to QEMU's socket).
 */
final class ServedNetDevice implements ServedDevice {
    private final NetDeviceSpec spec;
    private final NetDevice device;
    private final VhostUserBackend server;

    private ServedNetDevice(NetDeviceSpec spec, NetDevice device, VhostUserBackend server) {
        this.spec = spec;
        this.device = device;
        this.server = server;
    }

    /**
     * Makes the backend and starts listening (or, in client mode, connecting: a QEMU not there yet is
     * waited for, not an error).
     *
     * @param switches the launcher's switches: devices naming the same switch share it
     * @throws IOException    if the socket cannot be opened
     */
    static ServedNetDevice start(NetDeviceSpec spec, SwitchRegistry switches) throws IOException {
        NetDevice device = new NetDevice(backend(spec, switches), NetDeviceOptions.builder()
                .queuePairs(spec.queuePairs()).mac(spec.mac()).mtu(spec.mtu()).packed(spec.packed())
                .mergeable(spec.mergeable()).build());
        VhostUserBackend server = spec.client()
                ? VhostUserBackend.connect(device, spec.socket(), Duration.ofSeconds(spec.reconnectSeconds()))
                : VhostUserBackend.start(device, spec.socket());
        return new ServedNetDevice(spec, device, server);
    }

    private static NetBackend backend(NetDeviceSpec spec, SwitchRegistry switches) {
        switch (spec.backend()) {
            case SINK:
                return new SinkBackend();
            case TAP:
                return new TapBackend(spec.ifname(), true); // opened when the driver starts the device
            case SWITCH:
            default:
                return new SwitchBackend(switches.forName(spec.switchName()));
        }
    }

    @Override
    public NetDeviceSpec spec() {
        return spec;
    }

    /** The device, for its counters. */
    NetDevice device() {
        return device;
    }

    @Override
    public String describe() {
        String where = switch (spec.backend()) {
            case SWITCH -> "switch " + spec.switchName();
            case SINK -> "sink";
            case TAP -> "tap " + spec.ifname();
        };
        return spec.id() + ": net on " + where + ", mac " + spec.mac() + ", mtu " + spec.mtu() + ", "
                + spec.queuePairs() + (spec.queuePairs() == 1 ? " queue pair" : " queue pairs")
                + (spec.client() ? ", connecting to QEMU's socket " + server.socketPath() + " (every "
                        + spec.reconnectSeconds() + " s until it listens)" : ", socket " + server.socketPath());
    }

    /** Stops serving: the guest's connection ends and the device leaves its switch. */
    @Override
    public void close() {
        server.close();
    }
}
