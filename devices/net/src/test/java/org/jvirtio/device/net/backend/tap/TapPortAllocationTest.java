package org.jvirtio.device.net.backend.tap;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.Transmitter;
import org.jvirtio.device.net.backend.VnetHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The tap backend's data path allocates nothing per frame, either way: a transmitter writing ARP
 * requests into a TAP inside a namespace of the test's own, and the port's reader thread handing the
 * kernel's replies to the sink. Measured per thread with the JVM's allocation counter.
 */
@Timeout(120)
class TapPortAllocationTest {
    private static final int ROUNDS = 2_000;
    private static final byte[] PEER_MAC = {0x02, 0x6a, 0x76, 0x00, 0x00, 0x02};

    private final AtomicLong received = new AtomicLong();
    private final FrameSink sink = new FrameSink() {
        @Override
        public boolean receive(ByteBuffer frame) {
            throw new AssertionError("the tap backend delivers frames with their header");
        }

        @Override
        public boolean receiveWithHeader(ByteBuffer headerAndFrame) {
            received.incrementAndGet();
            return true;
        }

        @Override
        public void flush() {
        }
    };

    /** An ARP request for 10.97.7.1 from the peer, behind a zero vnet header, in a direct buffer. */
    private static ByteBuffer arpRequest() {
        ByteBuffer f = ByteBuffer.allocateDirect(VnetHeader.SIZE + 42);
        f.position(VnetHeader.SIZE);
        f.put(new byte[] {-1, -1, -1, -1, -1, -1}).put(PEER_MAC).putShort((short) 0x0806);
        f.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 1);
        f.put(PEER_MAC).put(new byte[] {10, 97, 7, 2}).put(new byte[6]).put(new byte[] {10, 97, 7, 1});
        return f.clear();
    }

    @Test
    void transmittingAndReadingAllocateNothingPerFrame() throws Exception {
        if (!Files.exists(Path.of("/dev/net/tun")) || !"root".equals(System.getProperty("user.name"))) {
            HostNamespace.unavailable("TAP interfaces and namespaces need /dev/net/tun and root");
        }
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        String ifname = HostNamespace.uniqueInterfaceName("jvta");
        try (HostNamespace namespace = HostNamespace.create()) {
            TapPort port = new TapBackend(ifname, true).attach(sink, PEER_MAC);
            try {
                namespace.adopt(ifname, "10.97.7.1/30");
                Transmitter transmitter = port.newTransmitter();
                ByteBuffer request = arpRequest();
                Thread reader = Thread.getAllStackTraces().keySet().stream()
                        .filter(t -> t.getName().equals("jvirtio-tap-" + ifname)).findFirst().orElseThrow();

                exchange(transmitter, request, ROUNDS); // warm up: JIT, LongAdder cells, the copy buffer if any
                long self = Thread.currentThread().getId();
                long sentBefore = threads.getThreadAllocatedBytes(self);
                long readBefore = threads.getThreadAllocatedBytes(reader.getId());
                exchange(transmitter, request, ROUNDS);
                long sentAllocated = threads.getThreadAllocatedBytes(self) - sentBefore;
                long readAllocated = threads.getThreadAllocatedBytes(reader.getId()) - readBefore;

                assertThat(port.txErrors()).isZero();
                // some slack for the measurement and the waiting; one object per frame would be 32 000+ bytes
                assertThat(sentAllocated).as("bytes allocated transmitting %d frames", ROUNDS).isLessThan(4_000);
                assertThat(readAllocated).as("bytes allocated reading %d frames", ROUNDS).isLessThan(4_000);
            } finally {
                port.close();
            }
        }
    }

    /** Sends {@code rounds} requests, each after the previous answer arrived, so none is lost to a full queue. */
    private void exchange(Transmitter transmitter, ByteBuffer request, int rounds) {
        for (int i = 0; i < rounds; i++) {
            long before = received.get();
            transmitter.transmitWithHeader(request);
            transmitter.flush();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (received.get() == before) {
                if (System.nanoTime() > deadline) { // no assertion object while measuring
                    throw new AssertionError("no answer to request " + i);
                }
                Thread.onSpinWait();
            }
        }
    }
}
