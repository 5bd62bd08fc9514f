package org.jvirtio.nativeio;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Kicks and interrupts (eventfd signal/read) and the epoll wait that notices them run per request:
 * they must not allocate, or a busy device would feed the garbage collector.
 */
class HotPathAllocationTest {

    private static final int ROUNDS = 20_000;

    @Test
    void signalReadAndWaitAllocateNothing() throws Exception {
        java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        Assumptions.assumeTrue(bean instanceof com.sun.management.ThreadMXBean, "no allocation counter");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
        Assumptions.assumeTrue(threads.isThreadAllocatedMemorySupported());

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
