package org.jvirtio.transport.vhostuser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.transport.vhostuser.internal.ProtocolFeature;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The Java front end against the back end, in one JVM, over a real socket, memfd and eventfds. */
class BackendFrontendTest {
    @TempDir
    Path dir;
    EchoDevice device;
    VhostUserBackend backend;
    Path socket;

    @BeforeEach
    void start() throws IOException {
        device = new EchoDevice(2);
        socket = dir.resolve("echo.sock");
        backend = VhostUserBackend.start(device, socket);
    }

    @AfterEach
    void stop() {
        backend.close();
    }

    private static long features(boolean packed, boolean eventIdx) {
        long f = VirtioFeature.bit(VirtioFeature.VERSION_1);
        if (packed) {
            f |= VirtioFeature.bit(VirtioFeature.RING_PACKED);
        }
        if (eventIdx) {
            f |= VirtioFeature.bit(VirtioFeature.RING_EVENT_IDX);
        }
        return f;
    }

    @ParameterizedTest(name = "packed={0} eventIdx={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void movesManyChainsOnTwoQueues(boolean packed, boolean eventIdx) throws IOException {
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket,
                new VhostUserFrontend.Options().queues(2, 64).features(features(packed, eventIdx)))) {
            assertThat(VirtioFeature.has(fe.features(), VirtioFeature.RING_PACKED)).isEqualTo(packed);
            Traffic q0 = new Traffic(fe, 0);
            Traffic q1 = new Traffic(fe, 1);
            for (int round = 0; round < 20; round++) {
                q0.run(64);
                q1.run(48);
            }
            assertThat(device.served.get()).isEqualTo(20 * (64 + 48));
            assertThat(device.activations.get()).isEqualTo(1);
        }
    }

    @Test
    void negotiatesFeaturesAndProtocolFeatures() throws IOException {
        long wanted = features(false, true) | VirtioFeature.bit(VirtioFeature.IN_ORDER);
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket, new VhostUserFrontend.Options().features(wanted))) {
            // IN_ORDER is not offered by the device: masked away
            assertThat(fe.features()).isEqualTo(features(false, true));
            assertThat(fe.protocolFeatures()).isEqualTo(ProtocolFeature.SUPPORTED);
            assertThat(fe.queueNum()).isEqualTo(2);
            assertThat(fe.status() & 0xFF).isEqualTo(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER
                    | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
            new Traffic(fe, 0).run(10);
            assertThat(device.negotiatedFeatures()).isEqualTo(features(false, true));
        }
    }

    @Test
    void worksWithoutProtocolFeaturesAndWithoutReplyAck() throws IOException {
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket,
                new VhostUserFrontend.Options().protocolFeatures(0))) {
            assertThat(fe.protocolFeatures()).isZero();
            new Traffic(fe, 0).run(100);
        }
    }

    @Test
    void readsAndWritesConfigSpace() throws IOException {
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket, new VhostUserFrontend.Options())) {
            assertThat(fe.getConfig(0, 4)).containsExactly(0xA0, 0xA1, 0xA2, 0xA3);
            fe.setConfig(8, new byte[] {1, 2, 3});
            fe.setConfig(0, new byte[] {9}); // read-only byte: ignored by the device
            assertThat(fe.getConfig(0, 16)).containsExactly(0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
                    1, 2, 3, 0, 0, 0, 0, 0);
            assertThat(fe.getConfig(250, 6)).containsOnly(0); // past the device's 16 bytes: zeros
            assertThatThrownBy(() -> fe.getConfig(200, 100)).hasMessageContaining("GET_CONFIG refused");
            new Traffic(fe, 0).run(5); // the connection goes on
        }
    }

    @Test
    void socketFileIsOwnerOnly() throws IOException {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
    }

    @ParameterizedTest(name = "packed={0}")
    @CsvSource({"false", "true"})
    void reconnectsAfterStopAndResumes(boolean packed) throws IOException {
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket,
                new VhostUserFrontend.Options().queues(1, 32).features(features(packed, true)))) {
            Traffic traffic = new Traffic(fe, 0);
            traffic.run(50);
            int[] bases = fe.stop();
            assertThat(device.resets.get()).isEqualTo(1); // every ring stopped: device reset
            if (!packed) {
                assertThat(bases[0]).isEqualTo(50);
            } else {
                assertThat(bases[0] & 0x7FFF).isEqualTo(50 * 2 % 32); // two descriptors per chain
            }
            fe.reconnect();
            traffic.run(70);
            assertThat(device.activations.get()).isEqualTo(2);
        }
    }

    @Test
    void frontEndDisconnectResetsDeviceAndNextFrontEndWorks() throws Exception {
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket, new VhostUserFrontend.Options())) {
            new Traffic(fe, 0).run(20);
        }
        awaitDisconnected();
        assertThat(device.resets.get()).isEqualTo(1);
        assertThat(device.isActive()).isFalse();
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket, new VhostUserFrontend.Options())) {
            new Traffic(fe, 0).run(20);
            // same front end reconnects without GET_VRING_BASE: resumes at the used index
            fe.reconnect();
            new Traffic(fe, 0).run(20);
        }
        assertThat(device.activations.get()).isEqualTo(3);
    }

    @Test
    void secondFrontEndIsTurnedAwayWhileOneIsConnected() throws Exception {
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket, new VhostUserFrontend.Options())) {
            assertThatThrownBy(() -> VhostUserFrontend.connect(socket, new VhostUserFrontend.Options()))
                    .isInstanceOf(IOException.class);
            new Traffic(fe, 0).run(10);
        }
    }

    @Test
    void resubmitsInFlightRequestsAfterReconnect() throws Exception {
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket,
                new VhostUserFrontend.Options().queues(1, 16).inflight(true))) {
            Traffic traffic = new Traffic(fe, 0);
            traffic.run(5);
            device.hold = true;
            int first = traffic.add(3);
            traffic.kick();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (device.heldCount() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertThat(device.heldCount()).isEqualTo(3);
            assertThat(fe.queue(0).inFlight()).isEqualTo(3);
            device.hold = false;
            // the back end loses the held requests (the device is reset on disconnect) ...
            fe.reconnect();
            // ... and resubmits them from the in-flight area
            traffic.awaitEchoes(3, first);
            traffic.run(40);
        }
    }

    private void awaitDisconnected() throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (backend.isConnected() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(backend.isConnected()).isFalse();
    }
}
