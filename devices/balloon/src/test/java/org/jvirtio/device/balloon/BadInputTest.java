package org.jvirtio.device.balloon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.balloon.control.StatTag;
import org.jvirtio.device.balloon.queue.PfnQueue;
import org.junit.jupiter.api.Test;

/**
 * An untrusted driver: each kind of bad request is counted, touches no memory it names wrongly, and
 * the queues go on working.
 */
class BadInputTest {
    private static final long PAGE = GuestRam.PAGE;

    @Test
    void aPfnOutsideGuestMemoryIsCountedAndSkipped() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            long good = rig.ram.page(2);
            rig.ram.fill(good, (byte) 1);
            // past the end, below the start, and the largest number a PFN can hold
            rig.inflate(rig.ram.end(), GuestRam.BASE - PAGE, good, 0xFFFF_FFFFL << 12);

            assertThat(rig.device.errors(BalloonError.PFN_OUTSIDE_MEMORY)).isEqualTo(3);
            assertThat(rig.device.count(BalloonCounter.PAGES_INFLATED)).isEqualTo(1);
            assertThat(rig.ram.pageIs(good, (byte) 0)).as("the good number in the same chain still counts").isTrue();
            rig.deflate(rig.ram.end() + 10 * PAGE);
            assertThat(rig.device.errors(BalloonError.PFN_OUTSIDE_MEMORY)).isEqualTo(4);
            assertThat(rig.device.count(BalloonCounter.PAGES_DEFLATED)).isZero();
            rig.assertStillWorks();
        }
    }

    @Test
    void aPageThatStraddlesARegionEndIsCountedAndKept() throws Exception {
        // region 0 ends 2 KiB into a page; region 1 (another memfd) starts right there
        long size = 8 << 20;
        GuestRam ram = new GuestRam(size, size - 2048);
        ram.addRegion(GuestRam.BASE + size - 2048, 1 << 20);
        try (BalloonRig rig = new BalloonRig(ram, new BalloonDevice(BalloonRig.options()), 0, false)) {
            long straddling = GuestRam.BASE + size - PAGE;
            long lastWhole = straddling - PAGE;
            rig.ram.fill(lastWhole, (byte) 9);
            rig.ram.map().putLong(straddling, 0x1234);

            rig.inflate(lastWhole, straddling);

            assertThat(rig.device.errors(BalloonError.PFN_STRADDLES_REGION)).isEqualTo(1);
            assertThat(rig.ram.map().getLong(straddling)).isEqualTo(0x1234);
            assertThat(rig.ram.pageIs(lastWhole, (byte) 0)).as("its neighbour in the same run is released").isTrue();

            // the same page where nothing follows the region end: first byte mapped, the rest not
            GuestRam alone = new GuestRam(size, size - 2048);
            try (BalloonRig lone = new BalloonRig(alone, new BalloonDevice(BalloonRig.options()), 0, false)) {
                lone.inflate(straddling);
                assertThat(lone.device.errors(BalloonError.PFN_STRADDLES_REGION)).isEqualTo(1);
                assertThat(lone.device.count(BalloonCounter.PAGES_INFLATED)).isZero();
            }
            rig.assertStillWorks();
        }
    }

    @Test
    void anInflateChainWithWritableDescriptorsIsRefusedWhole() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            long page = rig.ram.page(5);
            rig.ram.fill(page, (byte) 4);
            long scratch = rig.ram.allocate(64, 8);
            rig.submit(rig.layout.inflate(), new ScatterGatherList(2).addReadable(rig.pfnArray(page), 4)
                    .addWritable(scratch, 64));

            assertThat(rig.device.errors(BalloonError.WRITABLE_DESCRIPTOR)).isEqualTo(1);
            assertThat(rig.ram.pageIs(page, (byte) 4)).as("nothing in a refused chain is acted on").isTrue();
            assertThat(rig.device.count(BalloonCounter.PAGES_INFLATED)).isZero();
            rig.assertStillWorks();
        }
    }

    @Test
    void aLengthThatIsNotWholePfnsIsRefused() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            long page = rig.ram.page(6);
            rig.ram.fill(page, (byte) 6);
            rig.submit(rig.layout.inflate(), new ScatterGatherList(1).addReadable(rig.pfnArray(page, page), 7));
            rig.submit(rig.layout.deflate(), new ScatterGatherList(1).addReadable(rig.pfnArray(page), 2));

            assertThat(rig.device.errors(BalloonError.ODD_LENGTH)).isEqualTo(2);
            assertThat(rig.ram.pageIs(page, (byte) 6)).isTrue();
            rig.assertStillWorks();
        }
    }

    @Test
    void pfnsSplitAcrossDescriptorsAreReadWhole() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            long a = rig.ram.page(8);
            long b = rig.ram.page(10);
            rig.ram.fill(a, (byte) 8);
            rig.ram.fill(b, (byte) 8);
            long array = rig.pfnArray(a, b);
            // 8 bytes as 3 + 5: the first number is cut in two
            rig.submit(rig.layout.inflate(), new ScatterGatherList(2).addReadable(array, 3).addReadable(array + 3, 5));
            assertThat(rig.ram.pageIs(a, (byte) 0)).isTrue();
            assertThat(rig.ram.pageIs(b, (byte) 0)).isTrue();
            assertThat(rig.device.count(BalloonCounter.PAGES_INFLATED)).isEqualTo(2);
        }
    }

    @Test
    void tooManyPfnsInOneChainAreRefused() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            int bytes = 4 * (PfnQueue.MAX_PFNS_PER_REQUEST + 1);
            long array = rig.ram.allocate(bytes, 8);
            rig.submit(rig.layout.inflate(), new ScatterGatherList(1).addReadable(array, bytes));
            assertThat(rig.device.errors(BalloonError.TOO_MANY_PFNS)).isEqualTo(1);
            assertThat(rig.device.count(BalloonCounter.PAGES_INFLATED)).isZero();
            rig.assertStillWorks();
        }
    }

    @Test
    void aStatisticsEntryWithAnUnknownTagIsSkipped() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            long buffer = rig.statsBuffer(new long[][] {{StatTag.MEMFREE.ordinal(), 77}, {16, 1}, {0xFFFF, 2},
                {StatTag.AVAIL.ordinal(), 88}});
            rig.post(rig.layout.stats(), new ScatterGatherList(1).addReadable(buffer, 40));

            assertThat(rig.device.errors(BalloonError.STATS_UNKNOWN_TAG)).isEqualTo(2);
            assertThat(rig.device.statistics().get(StatTag.MEMFREE)).isEqualTo(77);
            assertThat(rig.device.statistics().get(StatTag.AVAIL)).isEqualTo(88);
            assertThat(rig.device.statistics().asMap()).hasSize(2);
            assertThat(rig.device.requestStatistics()).as("the buffer is held as usual").isTrue();
            rig.assertStillWorks();
        }
    }

    @Test
    void aTruncatedStatisticsEntryIsIgnored() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            long buffer = rig.statsBuffer(new long[][] {{StatTag.MEMTOT.ordinal(), 1 << 30}, {StatTag.MEMFREE.ordinal(), 5}});
            rig.post(rig.layout.stats(), new ScatterGatherList(1).addReadable(buffer, 17));

            assertThat(rig.device.errors(BalloonError.STATS_TRUNCATED)).isEqualTo(1);
            assertThat(rig.device.statistics().get(StatTag.MEMTOT)).isEqualTo(1 << 30);
            assertThat(rig.device.statistics().has(StatTag.MEMFREE)).isFalse();
            rig.assertStillWorks();
        }
    }

    @Test
    void aStatisticsBufferWithWritableDescriptorsIsGivenBackAtOnce() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            int q = rig.layout.stats();
            int token = rig.post(q, new ScatterGatherList(1).addWritable(rig.ram.allocate(20, 8), 20));
            assertThat(rig.drivers[q].pollUsed()).isEqualTo(token);
            assertThat(rig.device.errors(BalloonError.WRITABLE_DESCRIPTOR)).isEqualTo(1);
            assertThat(rig.device.statistics().sequence()).isZero();
        }
    }

    @Test
    void aReportedRangeOutsideOneRegionIsSkipped() throws Exception {
        // A descriptor outside guest memory altogether never reaches the device: the ring refuses the chain
        // (and the queue with it, as for any device). What the device sees is a range that is guest memory
        // but not one region's: here it runs from the last page of region 0 into region 1.
        GuestRam ram = new GuestRam(8 << 20);
        ram.addRegion(GuestRam.BASE + (8 << 20), 1 << 20);
        try (BalloonRig rig = new BalloonRig(ram, new BalloonDevice(BalloonRig.options()), 0, false)) {
            long lastPage = rig.ram.page(1);
            rig.ram.fill(lastPage, (byte) 5);
            rig.ram.fill(rig.ram.page(3), (byte) 5);
            rig.report(new long[] {lastPage, 2 * PAGE}, new long[] {rig.ram.page(3), PAGE});
            assertThat(rig.device.errors(BalloonError.RANGE_OUTSIDE_MEMORY)).isEqualTo(1);
            assertThat(rig.ram.pageIs(lastPage, (byte) 5)).as("a range across regions is kept whole").isTrue();
            assertThat(rig.ram.pageIs(rig.ram.page(3), (byte) 0)).isTrue();
            assertThat(rig.device.count(BalloonCounter.BYTES_RELEASED)).as("the good range in the chain")
                    .isEqualTo(PAGE);
            rig.assertStillWorks();
        }
    }

    @Test
    void aReportedRangeNotAlignedToPagesIsSkipped() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            long page = rig.ram.page(12);
            rig.ram.fill(page, (byte) 2);
            rig.ram.fill(page + PAGE, (byte) 2);
            rig.report(new long[] {page + 512, PAGE}, new long[] {page, PAGE + 100});
            assertThat(rig.device.errors(BalloonError.RANGE_UNALIGNED)).isEqualTo(2);
            assertThat(rig.ram.pageIs(page, (byte) 2)).isTrue();
            assertThat(rig.ram.pageIs(page + PAGE, (byte) 2)).isTrue();
            rig.assertStillWorks();
        }
    }

    @Test
    void aReportWithReadableDescriptorsIsRefused() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            long page = rig.ram.page(14);
            rig.ram.fill(page, (byte) 7);
            rig.submit(rig.layout.reporting(), new ScatterGatherList(2).addReadable(page, (int) PAGE)
                    .addWritable(page, (int) PAGE));
            assertThat(rig.device.errors(BalloonError.READABLE_DESCRIPTOR)).isEqualTo(1);
            assertThat(rig.ram.pageIs(page, (byte) 7)).isTrue();
            rig.assertStillWorks();
        }
    }

    @Test
    void aFreePageHintCommandOfTheWrongSizeOrAStaleIdIsIgnored() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            int q = rig.layout.freePage();
            long id = rig.device.requestFreePageHints();
            rig.submit(q, new ScatterGatherList(1).addReadable(rig.ram.store(new byte[8]), 8));
            assertThat(rig.device.errors(BalloonError.BAD_HINT_COMMAND)).isEqualTo(1);
            rig.submit(q, new ScatterGatherList(1).addReadable(rig.ram.store(HostMemoryTest.le32(id + 1)), 4));
            assertThat(rig.device.count(BalloonCounter.HINT_RUNS)).as("not this run's id").isZero();
            rig.submit(q, new ScatterGatherList(1).addWritable(rig.ram.page(20), (int) PAGE));
            assertThat(rig.device.count(BalloonCounter.BYTES_HINTED)).as("no run started").isZero();
            rig.submit(q, new ScatterGatherList(1).addReadable(rig.ram.store(HostMemoryTest.le32(id)), 4));
            assertThat(rig.device.count(BalloonCounter.HINT_RUNS)).isEqualTo(1);
            rig.assertStillWorks();
        }
    }

    @Test
    void aTargetAboveGuestMemoryIsCutToIt() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            long memoryPages = (16 << 20) / PAGE;
            assertThat(rig.device.setTargetPages(1L << 31)).isEqualTo(memoryPages);
            assertThat(rig.configInt(BalloonConfigSpace.NUM_PAGES)).isEqualTo(memoryPages);
            assertThat(rig.device.errors(BalloonError.TARGET_ABOVE_MEMORY)).isEqualTo(1);
            assertThat(rig.notifier.configChanges).isEqualTo(1);
        }
        // set before the driver ran: cut when the memory becomes known
        BalloonDevice early = new BalloonDevice(BalloonRig.options().withTargetPages(0xFFFF_FFFFL));
        try (BalloonRig rig = new BalloonRig(new GuestRam(4 << 20), early, 0, false)) {
            assertThat(rig.configInt(BalloonConfigSpace.NUM_PAGES)).isEqualTo((4 << 20) / PAGE);
            assertThat(rig.device.errors(BalloonError.TARGET_ABOVE_MEMORY)).isEqualTo(1);
        }
    }

    @Test
    void anActualAboveGuestMemoryIsCounted() throws Exception {
        try (BalloonRig rig = BalloonRig.start()) {
            rig.writeConfigInt(BalloonConfigSpace.ACTUAL, -1);
            assertThat(rig.device.errors(BalloonError.ACTUAL_ABOVE_MEMORY)).isEqualTo(1);
            assertThat(rig.device.actualPages()).as("kept as the driver said it").isEqualTo(0xFFFF_FFFFL);
            // a write that only partly covers actual, one byte at a time as some transports do
            byte[] one = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0x0102).array();
            for (int i = 0; i < 4; i++) {
                rig.device.writeConfig(BalloonConfigSpace.ACTUAL + i, one, i, 1);
            }
            assertThat(rig.device.actualPages()).isEqualTo(0x0102);
            rig.device.writeConfig(-3, one, 0, 4);
            rig.device.writeConfig(1 << 20, one, 0, 4);
            assertThat(rig.device.actualPages()).isEqualTo(0x0102);
            rig.assertStillWorks();
        }
    }
}
