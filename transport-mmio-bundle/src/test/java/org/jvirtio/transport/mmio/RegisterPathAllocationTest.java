package org.jvirtio.transport.mmio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.transport.mmio.MmioRegister.*;

import java.lang.management.ManagementFactory;

import org.jvirtio.device.blk.request.BlockProtocol;
import org.junit.jupiter.api.Test;

/**
 * The accesses a driver makes for every request (QueueNotify, InterruptStatus, InterruptACK, a config
 * read) allocate nothing on the calling (vCPU) thread once warm.
 */
class RegisterPathAllocationTest {
    private static final int ROUNDS = 20_000;

    @Test
    void perRequestRegisterAccessesDoNotAllocate() throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        org.junit.jupiter.api.Assumptions.assumeTrue(threads.isThreadAllocatedMemorySupported());
        threads.setThreadAllocatedMemoryEnabled(true);
        try (MmioDriver driver = new MmioDriver(Devices.blk())) {
            driver.probe(-1L);
            driver.setupQueue(0);
            driver.driverOk();
            assertThat(driver.writeSector(0, 0, MmioDriver.pattern(512, 1))).isEqualTo(BlockProtocol.S_OK);
            VirtioMmioTransport t = driver.transport;
            long sink = 0;
            for (int i = 0; i < ROUNDS; i++) { // warm-up: compile the paths
                sink += accesses(t);
            }
            long thread = Thread.currentThread().getId();
            long before = threads.getThreadAllocatedBytes(thread);
            for (int i = 0; i < ROUNDS; i++) {
                sink += accesses(t);
            }
            long allocated = threads.getThreadAllocatedBytes(thread) - before;
            assertThat(sink).isNotZero();
            assertThat(allocated).as("bytes allocated by %d rounds", ROUNDS).isLessThan(1_000);
        }
    }

    private static long accesses(VirtioMmioTransport t) {
        t.write(QUEUE_NOTIFY, 4, 0);
        long isr = t.read(INTERRUPT_STATUS, 4);
        t.write(INTERRUPT_ACK, 4, isr);
        return t.read(CONFIG, 4) + t.read(STATUS, 4);
    }
}
