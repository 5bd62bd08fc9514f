package org.jvirtio.device.net.dpdk;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.device.net.NetCounter;
import org.jvirtio.device.net.NetDevice;
import org.jvirtio.device.net.NetDeviceOptions;
import org.jvirtio.device.net.NetFeatures;
import org.jvirtio.device.net.backend.NetBackend;
import org.jvirtio.device.net.backend.sink.SinkBackend;
import org.jvirtio.device.net.backend.source.SourceBackend;
import org.jvirtio.device.net.dpdk.Testpmd.PortStats;
import org.jvirtio.transport.vhostuser.VhostUserBackend;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * DPDK as the driver: {@code dpdk-testpmd} with a virtio-user port ({@code net_virtio_user0}) on the
 * vhost-user socket of a {@link NetDevice} served in this JVM, split and packed rings, MRG_RXBUF on and
 * off. Both directions, counted on both sides and compared exactly:
 * <ul>
 * <li>tx: testpmd {@code txonly} sends frames of one size into the device, whose {@link SinkBackend}
 * counts them: every frame testpmd's port counted as sent reached the backend, with its length;
 * <li>rx: a {@link SourceBackend} delivers a fixed number of frames of one size into the device's
 * receive ring and testpmd {@code rxonly} counts them: exactly that many, with their length. With
 * MRG_RXBUF the 1500-byte frames are received into 1 KiB mbufs, so each spans two buffers.
 * </ul>
 * testpmd runs without hugepages ({@code --no-huge}: DPDK 22.11 then shares its memory as one memfd
 * region, which is what vhost-user needs; {@code --in-memory} is refused with it, so {@code --no-shconf}),
 * interactive; missing testpmd skips the test, or fails it with {@code CI=true}.
 */
class DpdkTestpmdInteropTest {
    private static final Duration START = Duration.ofSeconds(30);
    /** Frames the tx direction sends at least; testpmd is stopped once the device has seen them. */
    private static final long TX_AT_LEAST = 100_000;
    /** Frames the source delivers in the rx direction. */
    private static final long RX_FRAMES = 50_000;

    @TempDir
    Path dir;

    private static List<String> eal(Path socket, boolean packed, boolean mergeable) {
        return List.of("--no-pci", "--no-huge", "-m", "256", "--no-shconf",
                "--lcores", "0@0,1@" + (Runtime.getRuntime().availableProcessors() > 1 ? 1 : 0),
                "--vdev", "net_virtio_user0,path=" + socket + ",queues=1" + (packed ? ",packed_vq=1" : "")
                        + ",mrg_rxbuf=" + (mergeable ? 1 : 0));
    }

    private static NetDevice device(NetBackend backend) {
        return new NetDevice(backend, NetDeviceOptions.builder().queueSize(256).build());
    }

    @ParameterizedTest(name = "tx packed={0} size={1}")
    @CsvSource({"false,64", "false,1500", "true,64", "true,1500"})
    void framesTestpmdSendsReachTheBackend(boolean packed, int size) throws Exception {
        Path binary = Testpmd.require();
        Path socket = dir.resolve("net.sock");
        SinkBackend sink = new SinkBackend();
        NetDevice device = device(sink);
        try (VhostUserBackend backend = VhostUserBackend.start(device, socket);
                Testpmd pmd = Testpmd.start(binary, "jvtx" + ProcessHandle.current().pid(), eal(socket, packed, true),
                        List.of("--forward-mode=txonly", "--txpkts=" + size, "--total-num-mbufs=16384"),
                        dir.resolve("testpmd.log"))) {
            awaitActive(device, pmd, packed, true);
            pmd.command("start");
            awaitOrFail(() -> device.count(NetCounter.TX_FRAMES) >= TX_AT_LEAST, Duration.ofSeconds(20), pmd,
                    () -> "device saw " + device.count(NetCounter.TX_FRAMES) + " frames");
            pmd.command("stop");
            // the device serves what testpmd put into the ring before it stopped
            PortStats[] last = new PortStats[1];
            awaitOrFail(() -> {
                last[0] = stats(pmd);
                return last[0].txPackets() == device.count(NetCounter.TX_FRAMES);
            }, Duration.ofSeconds(10), pmd, () -> "testpmd sent " + last[0] + ", device took "
                    + device.count(NetCounter.TX_FRAMES));
            PortStats s = last[0];
            System.out.printf("tx packed=%s size=%d: testpmd %s; device TX_FRAMES %d, sink %d frames %d bytes%n",
                    packed, size, s, device.count(NetCounter.TX_FRAMES), sink.frames(), sink.bytes());

            assertThat(s.txPackets()).isGreaterThanOrEqualTo(TX_AT_LEAST);
            assertThat(s.txErrors()).isZero();
            assertThat(s.txBytes()).as("testpmd's bytes").isEqualTo(s.txPackets() * size);
            assertThat(sink.frames()).as("frames at the backend").isEqualTo(s.txPackets());
            assertThat(sink.bytes()).as("bytes at the backend: every frame as long as sent").isEqualTo(s.txBytes());
            assertThat(device.count(NetCounter.TX_BYTES)).isEqualTo(s.txBytes());
            assertNoDrops(device, NetCounter.TX_SHORT_HEADER, NetCounter.TX_SHORT_FRAME, NetCounter.TX_LONG_FRAME,
                    NetCounter.TX_GSO_NOT_NEGOTIATED, NetCounter.TX_CSUM_NOT_NEGOTIATED, NetCounter.TX_BAD_CSUM_OFFSETS,
                    NetCounter.TX_WRITABLE_DESCRIPTOR, NetCounter.TX_GUEST_MEMORY);
            assertThat(s.rxPackets()).as("nothing comes back from a sink").isZero();
        }
    }

    @ParameterizedTest(name = "rx packed={0} mergeable={1} size={2}")
    @CsvSource({"false,false,64", "false,false,1500", "false,true,64", "false,true,1500",
            "true,false,64", "true,false,1500", "true,true,64", "true,true,1500"})
    void framesTheSourceDeliversReachTestpmd(boolean packed, boolean mergeable, int size) throws Exception {
        Path binary = Testpmd.require();
        Path socket = dir.resolve("net.sock");
        SourceBackend source = new SourceBackend(size, 32, RX_FRAMES);
        // the virtio PMD discards what its receive rings hold when it starts the port (after the device
        // is activated) without counting it: the source waits until testpmd is ready
        source.pause();
        NetDevice device = device(source);
        List<String> app = new ArrayList<>(List.of("--forward-mode=rxonly", "--total-num-mbufs=16384"));
        if (mergeable) {
            // 896 bytes of data per mbuf: a 1500-byte frame takes two buffers (testpmd insists on scatter then)
            app.addAll(List.of("--mbuf-size=1024", "--enable-scatter"));
        }
        try (VhostUserBackend backend = VhostUserBackend.start(device, socket);
                Testpmd pmd = Testpmd.start(binary, "jvrx" + ProcessHandle.current().pid(),
                        eal(socket, packed, mergeable), app, dir.resolve("testpmd.log"))) {
            awaitActive(device, pmd, packed, mergeable);
            source.resume();
            pmd.command("start");
            PortStats[] last = new PortStats[1];
            awaitOrFail(() -> {
                last[0] = stats(pmd);
                return last[0].rxPackets() >= RX_FRAMES;
            }, Duration.ofSeconds(30), pmd, () -> "testpmd received " + last[0] + ", source delivered "
                    + source.delivered() + ", device " + counters(device));
            Thread.sleep(100); // nothing more may come
            PortStats s = stats(pmd);
            pmd.command("stop");
            System.out.printf("rx packed=%s mergeable=%s size=%d: testpmd %s; device RX_FRAMES %d, RX_NO_BUFFER %d,"
                    + " source delivered %d, refused %d%n", packed, mergeable, size, s,
                    device.count(NetCounter.RX_FRAMES), device.count(NetCounter.RX_NO_BUFFER), source.delivered(),
                    source.refused());

            assertThat(source.exhausted()).isTrue();
            assertThat(source.delivered()).isEqualTo(RX_FRAMES);
            assertThat(device.count(NetCounter.RX_FRAMES)).isEqualTo(RX_FRAMES);
            assertThat(s.rxPackets()).as("frames testpmd received").isEqualTo(RX_FRAMES);
            assertThat(s.rxBytes()).as("every frame as long as sent").isEqualTo(RX_FRAMES * size);
            assertThat(s.rxErrors()).isZero();
            assertThat(s.rxNombuf()).isZero();
            assertThat(device.count(NetCounter.RX_BYTES)).isEqualTo(RX_FRAMES * size);
            // a full ring refuses a frame, which the device counts, and the source starts its next batch
            assertThat(device.count(NetCounter.RX_NO_BUFFER)).isEqualTo(source.refused());
            assertNoDrops(device, NetCounter.RX_CHAIN_TOO_SMALL, NetCounter.RX_CHAIN_READABLE,
                    NetCounter.RX_LONG_FRAME, NetCounter.RX_GUEST_MEMORY);
        }
    }

    /** testpmd has started its port and the device runs with the features this front end asked for. */
    private static void awaitActive(NetDevice device, Testpmd pmd, boolean packed, boolean mergeable)
            throws Exception {
        pmd.await(Testpmd.PROMPT, 0, START); // the first prompt: the port is started
        awaitOrFail(device::isActive, START, pmd, () -> "the device was not activated");
        long f = device.negotiatedFeatures();
        System.out.printf("negotiated features %#x%n", f);
        assertThat(VirtioFeature.has(f, VirtioFeature.RING_PACKED)).as("RING_PACKED").isEqualTo(packed);
        assertThat(VirtioFeature.has(f, NetFeatures.MRG_RXBUF)).as("MRG_RXBUF").isEqualTo(mergeable);
        assertThat(VirtioFeature.has(f, VirtioFeature.VERSION_1)).isTrue();
    }

    private static void assertNoDrops(NetDevice device, NetCounter... counters) {
        for (NetCounter c : counters) {
            assertThat(device.count(c)).as(c.name()).isZero();
        }
    }

    private static String counters(NetDevice device) {
        StringBuilder b = new StringBuilder();
        for (NetCounter c : NetCounter.values()) {
            long n = device.count(c);
            if (n != 0) {
                b.append(b.length() == 0 ? "" : ", ").append(c).append('=').append(n);
            }
        }
        return "{" + b + "}";
    }

    private static PortStats stats(Testpmd pmd) {
        try {
            return pmd.portStats();
        } catch (IOException e) {
            throw new AssertionError(e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private interface Message {
        String get();
    }

    private static void awaitOrFail(BooleanSupplier condition, Duration timeout, Testpmd pmd, Message what)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0 || !pmd.isAlive()) {
                throw new AssertionError(what.get() + " within " + timeout + (pmd.isAlive() ? "" : " (testpmd exited)")
                        + "; testpmd's output ends:\n" + pmd.tail(40));
            }
            Thread.sleep(20);
        }
    }
}
