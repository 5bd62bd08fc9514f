package org.jvirtio.device.balloon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RecordingNotifier;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestActivation;
import org.jvirtio.vring.testkit.TestMemory;
import org.junit.jupiter.api.Test;

/**
 * Inflated and reported pages really leave the host: the memfd behind guest memory holds fewer blocks
 * afterwards (the kernel's own count), and the pages read back as zeros.
 */
class HostMemoryTest {
    private static final long PAGE = GuestRam.PAGE;

    @Test
    void inflatedPagesAreReleasedFromTheMemfdAndReadAsZeros() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            long[] pages = new long[64];
            for (int i = 0; i < pages.length; i++) {
                // every other page, going down as an allocator hands them out: runs up, runs down, gaps
                pages[i] = rig.ram.page(1 + (i < 32 ? i : 100 + 2 * i));
                rig.ram.fill(pages[i], (byte) 0xA5);
            }
            long neighbour = rig.ram.page(99);
            rig.ram.fill(neighbour, (byte) 0x11);
            long before = rig.ram.allocatedBytes();

            rig.inflate(pages);

            assertThat(rig.ram.allocatedBytes()).isEqualTo(before - pages.length * PAGE);
            for (long p : pages) {
                assertThat(rig.ram.pageIs(p, (byte) 0)).as("page 0x%x", p).isTrue();
            }
            assertThat(rig.ram.pageIs(neighbour, (byte) 0x11)).as("a page not inflated keeps its data").isTrue();
            assertThat(rig.device.count(BalloonCounter.PAGES_INFLATED)).isEqualTo(pages.length);
            assertThat(rig.device.count(BalloonCounter.BYTES_RELEASED)).isEqualTo(pages.length * PAGE);
            assertThat(rig.device.count(BalloonCounter.PAGES_NOT_RELEASED)).isZero();
            assertThat(rig.notifier.used.get(rig.layout.inflate())).as("the driver waits for the used buffer")
                    .isPositive();
        }
    }

    @Test
    void deflatedPagesComeBackUsableAndAreCounted() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            long page = rig.ram.page(3);
            rig.ram.fill(page, (byte) 0x5A);
            rig.inflate(page);
            long afterInflate = rig.ram.allocatedBytes();

            rig.deflate(page);
            assertThat(rig.device.count(BalloonCounter.PAGES_DEFLATED)).isEqualTo(1);
            assertThat(rig.ram.allocatedBytes()).as("deflating allocates nothing by itself").isEqualTo(afterInflate);
            rig.ram.fill(page, (byte) 0x77);
            assertThat(rig.ram.pageIs(page, (byte) 0x77)).isTrue();
            assertThat(rig.ram.allocatedBytes()).as("the guest's next write takes the page again")
                    .isEqualTo(afterInflate + PAGE);
        }
    }

    @Test
    void reportedFreeRangesAreReleased() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            long block = rig.ram.page(512); // 2 MiB below the top, as Linux reports pageblocks
            for (int i = 0; i < 512; i++) {
                rig.ram.fill(block + i * PAGE, (byte) 0xC3);
            }
            long small = rig.ram.page(600);
            rig.ram.fill(small, (byte) 0xC3);
            rig.ram.fill(small + PAGE, (byte) 0xC3);
            long before = rig.ram.allocatedBytes();

            rig.report(new long[] {block, 512 * PAGE}, new long[] {small, 2 * PAGE});

            assertThat(rig.ram.allocatedBytes()).isEqualTo(before - 514 * PAGE);
            assertThat(rig.ram.pageIs(block + 100 * PAGE, (byte) 0)).isTrue();
            assertThat(rig.ram.pageIs(small + PAGE, (byte) 0)).isTrue();
            assertThat(rig.device.count(BalloonCounter.REPORTS)).isEqualTo(1);
            assertThat(rig.device.count(BalloonCounter.BYTES_REPORTED)).isEqualTo(514 * PAGE);
            assertThat(rig.device.count(BalloonCounter.BYTES_RELEASED)).isEqualTo(514 * PAGE);
        }
    }

    @Test
    void reportedPagesStayWhileTheDriverPoisonsFreePages() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            rig.writeConfigInt(BalloonConfigSpace.POISON_VAL, 0xAAAAAAAA);
            long page = rig.ram.page(7);
            rig.ram.fill(page, (byte) 0xAA);
            long before = rig.ram.allocatedBytes();

            rig.report(new long[] {page, PAGE});

            assertThat(rig.ram.allocatedBytes()).isEqualTo(before);
            assertThat(rig.ram.pageIs(page, (byte) 0xAA)).as("the poison the guest will check").isTrue();
            assertThat(rig.device.count(BalloonCounter.BYTES_KEPT_POISONED)).isEqualTo(PAGE);
            assertThat(rig.configInt(BalloonConfigSpace.POISON_VAL)).isEqualTo(0xAAAAAAAA);
        }
    }

    @Test
    void aFreePageHintRunCountsTheLentBlocksAndReleasesNothing() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            int q = rig.layout.freePage();
            long id = rig.device.requestFreePageHints();
            assertThat(id).isGreaterThanOrEqualTo(0x8000_0000L);
            assertThat(rig.notifier.configChanges).isEqualTo(1);
            assertThat(Integer.toUnsignedLong(rig.configInt(BalloonConfigSpace.FREE_PAGE_HINT_CMD_ID))).isEqualTo(id);

            // Linux: the id as an outbuf, blocks as inbufs, then a stop (0) as an outbuf
            rig.submit(q, new ScatterGatherList(1).addReadable(rig.ram.store(le32(id)), 4));
            long block = rig.ram.page(16);
            rig.ram.fill(block, (byte) 0x42);
            long before = rig.ram.allocatedBytes();
            rig.submit(q, new ScatterGatherList(1).addWritable(block, (int) (16 * PAGE)));
            rig.submit(q, new ScatterGatherList(1).addReadable(rig.ram.store(le32(0)), 4));

            assertThat(rig.device.count(BalloonCounter.HINT_RUNS)).isEqualTo(1);
            assertThat(rig.device.count(BalloonCounter.BYTES_HINTED)).isEqualTo(16 * PAGE);
            assertThat(rig.ram.allocatedBytes()).as("the guest may reuse hinted pages at any time").isEqualTo(before);
            assertThat(rig.ram.pageIs(block, (byte) 0x42)).isTrue();
            assertThat(rig.configInt(BalloonConfigSpace.FREE_PAGE_HINT_CMD_ID)).as("DONE: take the blocks back")
                    .isEqualTo(BalloonConfigSpace.CMD_ID_DONE);
            assertThat(rig.notifier.configChanges).isEqualTo(2);
        }
    }

    @Test
    void memoryThatCannotBeReleasedIsCountedAndKeepsItsContents() throws Exception {
        // a Java buffer behind guest memory (with guard bytes around it), and a driver that enabled only
        // inflateq and deflateq although it negotiated every queue
        TestMemory memory = new TestMemory(4 << 20);
        BalloonDevice device = new BalloonDevice(BalloonRig.options());
        long features = device.offeredFeatures() & ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
        DeviceQueue[] queues = new DeviceQueue[2];
        DriverQueue inflate = null;
        for (int q = 0; q < 2; q++) {
            QueueConfig config = RingPlacement.place(memory, 16);
            queues[q] = Vrings.device(config, features, memory.map());
            if (q == 0) {
                inflate = Vrings.driver(config, features, memory.map());
            }
        }
        RecordingNotifier notifier = new RecordingNotifier();
        device.activate(new TestActivation(features, queues, memory.map(), notifier));

        long page = memory.end() - 2 * PAGE;
        memory.map().putLong(page, 0x5151L);
        long array = memory.store(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) (page >>> 12)).array());
        inflate.add(new ScatterGatherList(1).addReadable(array, 4), 1, false);
        if (inflate.kick()) {
            device.queueNotified(0);
        }
        assertThat(inflate.pollUsed()).isEqualTo(1);

        assertThat(device.count(BalloonCounter.PAGES_INFLATED)).isEqualTo(1);
        assertThat(device.count(BalloonCounter.PAGES_NOT_RELEASED)).isEqualTo(1);
        assertThat(device.count(BalloonCounter.BYTES_RELEASED)).isZero();
        assertThat(memory.map().getLong(page)).isEqualTo(0x5151L);
        assertThat(memory.guardsIntact()).isTrue();
        assertThat(device.requestStatistics()).as("statsq not enabled").isFalse();
        device.reset();
    }

    static byte[] le32(long v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }
}
