package org.jvirtio.transport.vhostuser.component;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.annotation.Annotation;
import java.nio.file.Path;

import org.jvirtio.transport.vhostuser.EchoDevice;
import org.jvirtio.transport.vhostuser.Traffic;
import org.jvirtio.transport.vhostuser.VhostUserFrontend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transport component as DS drives it when device services come and go (calls in the order SCR
 * makes them): the front end's connection outlives every device behind it.
 */
class VhostUserTransportTest {
    @TempDir
    Path dir;
    private final VhostUserTransport transport = new VhostUserTransport();

    @AfterEach
    void deactivate() {
        transport.deactivate();
    }

    private VhostUserTransport.Config config(Path socket, long drainMillis) {
        return new VhostUserTransport.Config() {
            public Class<? extends Annotation> annotationType() { return VhostUserTransport.Config.class; }
            public String socket() { return socket.toString(); }
            public boolean client() { return false; }
            public int reconnect() { return 1; }
            public long drainMillis() { return drainMillis; }
            public String device_target() { return "(jvirtio.id=x)"; }
        };
    }

    /** Binds {@code device} and activates the transport on {@code name}, as SCR does. */
    private Path started(String name, EchoDevice device, long drainMillis) {
        Path socket = dir.resolve(name);
        transport.bindDevice(device);
        transport.activate(config(socket, drainMillis), java.util.Map.of("jvirtio.id", "dev0"));
        return socket;
    }

    private static VhostUserFrontend connect(Path socket, boolean inflight) throws java.io.IOException {
        return VhostUserFrontend.connect(socket, new VhostUserFrontend.Options().queues(2, 64).inflight(inflight));
    }

    @Test
    void opensTheSocketOnlyOnceADeviceIsThere() throws Exception {
        Path socket = dir.resolve("late.sock");
        transport.activate(config(socket, 1000), java.util.Map.of());
        assertThat(socket).doesNotExist();
        assertThat(transport.backend()).isNull();
        EchoDevice device = new EchoDevice(2);
        transport.bindDevice(device);
        try (VhostUserFrontend fe = connect(socket, false)) {
            new Traffic(fe, 0).run(16);
        }
        assertThat(device.served.get()).isEqualTo(16);
    }

    @Test
    void aGreedyReplacementAndABundleUpdateKeepTheConnection() throws Exception {
        EchoDevice first = new EchoDevice(2);
        try (VhostUserFrontend fe = connect(started("swap.sock", first, 1000), false)) {
            Traffic traffic = new Traffic(fe, 0);
            traffic.run(16);
            // a better-ranked device appears: SCR binds it, then unbinds the old one
            EchoDevice second = new EchoDevice(2);
            transport.bindDevice(second);
            transport.unbindDevice(first);
            traffic.run(16);
            assertThat(second.served.get()).isEqualTo(16);
            // the device's bundle is updated: its service goes, requests wait, the new build takes them
            transport.unbindDevice(second);
            int waiting = traffic.add(8);
            traffic.kick();
            Thread.sleep(200);
            assertThat(fe.queue(0).inFlight()).as("requests wait while no device is there").isEqualTo(8);
            EchoDevice third = new EchoDevice(2);
            transport.bindDevice(third);
            traffic.awaitEchoes(8, waiting);
            traffic.run(16);
            assertThat(third.served.get()).isEqualTo(24);
            assertThat(transport.backend().connections()).as("one connection throughout").isEqualTo(1);
            assertThat(first.served.get() + second.served.get() + third.served.get()).isEqualTo(56);
        }
    }

    @Test
    void aDeviceThatCannotTakeOverTheRingsCostsAReconnect() throws Exception {
        EchoDevice first = new EchoDevice(2);
        try (VhostUserFrontend fe = connect(started("incompatible.sock", first, 1000), false)) {
            Traffic traffic = new Traffic(fe, 0);
            traffic.run(16);
            EchoDevice wider = new EchoDevice(3);
            transport.bindDevice(wider);
            transport.unbindDevice(first);
            assertThat(transport.backend().isConnected()).isFalse();
            assertThat(first.resets.get()).isEqualTo(1);
            fe.reconnect();
            traffic.run(16);
            assertThat(wider.served.get()).isEqualTo(16);
        }
    }

    @Test
    void aLeavingDeviceThatKeepsItsRequestsCostsAReconnectAndTheyAreResubmitted() throws Exception {
        EchoDevice stuck = new EchoDevice(2);
        try (VhostUserFrontend fe = connect(started("stuck.sock", stuck, 100), true)) {
            Traffic traffic = new Traffic(fe, 0);
            traffic.run(16);
            stuck.hold = true;
            int held = traffic.add(3);
            traffic.kick();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (stuck.heldCount() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            EchoDevice next = new EchoDevice(2);
            transport.bindDevice(next);
            transport.unbindDevice(stuck);
            assertThat(transport.backend().isConnected()).isFalse();
            fe.reconnect(); // what QEMU does with reconnect=N: the in-flight area brings the 3 back
            traffic.awaitEchoes(3, held);
            traffic.run(16);
            assertThat(next.served.get()).isEqualTo(19);
        }
    }

    @Test
    void tellsWhatItServesAndCountsPerQueue() throws Exception {
        EchoDevice device = new EchoDevice(2);
        Path socket = started("stats.sock", device, 1000);
        assertThat(transport.id()).isEqualTo("dev0");
        assertThat(transport.address()).isEqualTo(socket.toString());
        assertThat(transport.state()).isEqualTo("waiting");
        try (VhostUserFrontend fe = connect(socket, false)) {
            new Traffic(fe, 0).run(40);
            assertThat(transport.state()).isEqualTo("running");
            assertThat(transport.deviceType()).isEqualTo(0x7f);
            assertThat(transport.queueCount()).isEqualTo(2);
            assertThat(transport.negotiatedFeatures()).isEqualTo(fe.features());
            var q0 = transport.queueStatistics(0);
            assertThat(q0.chains()).isEqualTo(40);
            assertThat(q0.completed()).isEqualTo(40);
            assertThat(q0.bytesRead()).isEqualTo(40L * Traffic.BUFFER);
            assertThat(q0.bytesWritten()).isEqualTo(40L * Traffic.BUFFER);
            assertThat(q0.kicks()).isPositive();
            assertThat(q0.interrupts() + q0.suppressed()).isPositive();
            assertThat(q0.errors()).isZero();
            assertThat(transport.queueStatistics(1).chains()).isZero();
            transport.unbindDevice(device);
            assertThat(transport.state()).isEqualTo("device-absent");
            transport.bindDevice(new EchoDevice(2));
            transport.reset();
            assertThat(transport.backend().isConnected()).isFalse();
            fe.reconnect();
            new Traffic(fe, 0).run(8);
            assertThat(transport.queueStatistics(0).completed()).as("counted across connections").isEqualTo(48);
        }
    }
}
