package org.jvirtio.nativeio;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Kicks and interrupts (eventfd signal/read), the epoll wait that notices them, and TAP reads and
 * writes run per request or frame: they must not allocate, or a busy device would feed the garbage
 * collector.
 */
class HotPathAllocationTest {

    private static final int ROUNDS = 20_000;
    private static final int TAP_ROUNDS = 5_000;

    @Test
    void signalReadAndWaitAllocateNothing() throws Exception {
        com.sun.management.ThreadMXBean threads = allocationCounter();

        try (Epoll epoll = Epoll.create(); EventFd kick = EventFd.create(true)) {
            epoll.add(kick.fd(), Epoll.IN, 7);
            int[] tags = new int[8];
            cycle(epoll, kick, tags); // warm up: scratch buffers, class initialisation, JIT
            long thread = Thread.currentThread().getId();
            long before = threads.getThreadAllocatedBytes(thread);
            long seen = cycle(epoll, kick, tags);
            long allocated = threads.getThreadAllocatedBytes(thread) - before;

            assertThat(seen).isEqualTo(2L * ROUNDS);
            // A few hundred bytes of slack for the measurement itself; one object per round would be 20 000+.
            assertThat(allocated).isLessThan(1_000);
        }
    }

    /**
     * The virtio-net data path: frames written to a TAP and the kernel's answers read back, with plain
     * and vectored calls, inside a namespace of the test's own.
     */
    @Test
    void tapReadAndWriteAllocateNothing() throws Exception {
        com.sun.management.ThreadMXBean threads = allocationCounter();
        int header = Tap.VNET_HEADER_SIZE;
        byte[] tapIp = {10, 99, 7, 1};
        byte[] peerIp = {10, 99, 7, 2};
        try (TapSupport.Namespace namespace = TapSupport.Namespace.create();
             Tap tap = TapSupport.open(TapSupport.uniqueName("jva"), true);
             Epoll epoll = Epoll.create()) {
            namespace.adopt(tap, "10.99.7.1/30");
            epoll.add(tap.fd(), Epoll.IN, 1);
            ByteBuffer request = TestFrames.arpRequest(header, peerIp, tapIp);
            ByteBuffer[] requestParts = {request.slice(0, header), request.slice(header, request.limit() - header)};
            ByteBuffer reply = ByteBuffer.allocateDirect(2048);
            ByteBuffer[] replyParts = {ByteBuffer.allocateDirect(header), ByteBuffer.allocateDirect(2048)};
            int[] tags = new int[4];
            tapRounds(tap, epoll, request, requestParts, reply, replyParts, tags, TAP_ROUNDS); // warm up: JIT
            long thread = Thread.currentThread().getId();
            long before = threads.getThreadAllocatedBytes(thread);
            long frames = tapRounds(tap, epoll, request, requestParts, reply, replyParts, tags, TAP_ROUNDS);
            long allocated = threads.getThreadAllocatedBytes(thread) - before;

            assertThat(frames).isGreaterThanOrEqualTo(TAP_ROUNDS);
            // Measured: 1-2 KB in total, not growing with the rounds (the JVM's own, around the waits).
            // Less than a byte per round; one object per frame would be 16 bytes or more each.
            assertThat(allocated).isLessThan(TAP_ROUNDS);
            epoll.remove(tap.fd());
        }
    }

    /** Each round writes one ARP request and reads until its reply came: returns the frames read. */
    private static long tapRounds(Tap tap, Epoll epoll, ByteBuffer request, ByteBuffer[] requestParts, ByteBuffer reply,
            ByteBuffer[] replyParts, int[] tags, int rounds) throws NativeException {
        long frames = 0;
        for (int i = 0; i < rounds; i++) {
            boolean vectored = (i & 1) != 0;
            if (vectored) {
                requestParts[0].clear();
                requestParts[1].clear();
                tap.write(requestParts, 0, 2);
            } else {
                request.clear();
                tap.write(request);
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            boolean answered = false;
            while (!answered && System.nanoTime() < deadline) {
                epoll.wait(tags, 100);
                long n;
                do {
                    if (vectored) {
                        replyParts[0].clear();
                        replyParts[1].clear();
                        n = tap.read(replyParts, 0, 2);
                        answered |= n > 0 && replyParts[1].getShort(TestFrames.ETHERTYPE) == TestFrames.ETHERTYPE_ARP;
                    } else {
                        reply.clear();
                        n = tap.read(reply);
                        answered |= n > 0 && reply.getShort(header(tap) + TestFrames.ETHERTYPE) == TestFrames.ETHERTYPE_ARP;
                    }
                    frames += n > 0 ? 1 : 0;
                } while (n > 0);
            }
            if (!answered) {
                throw new AssertionError("no ARP reply within 5 s in round " + i);
            }
        }
        return frames;
    }

    private static int header(Tap tap) {
        return tap.vnetHeaderSize();
    }

    private static com.sun.management.ThreadMXBean allocationCounter() {
        java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        Assumptions.assumeTrue(bean instanceof com.sun.management.ThreadMXBean, "no allocation counter");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
        Assumptions.assumeTrue(threads.isThreadAllocatedMemorySupported());
        return threads;
    }

    private static long cycle(Epoll epoll, EventFd kick, int[] tags) throws NativeException {
        long seen = 0;
        for (int i = 0; i < ROUNDS; i++) {
            kick.signal();
            kick.write(1);
            epoll.wakeup();
            int n = epoll.wait(tags, 0);
            for (int j = 0; j < n; j++) {
                if (tags[j] == 7) {
                    seen += kick.read();
                }
            }
        }
        return seen;
    }
}
