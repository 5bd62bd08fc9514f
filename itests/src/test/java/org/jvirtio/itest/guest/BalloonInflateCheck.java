package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.awaitHost;
import static org.jvirtio.itest.guest.GuestChecks.awaitMarker;
import static org.jvirtio.itest.guest.GuestChecks.check;

import java.io.IOException;
import java.time.Duration;

import org.jvirtio.device.balloon.BalloonDevice;
import org.jvirtio.device.balloon.BalloonError;
import org.jvirtio.device.balloon.BalloonOptions;
import org.jvirtio.device.balloon.control.BalloonStatistics;
import org.jvirtio.device.balloon.control.StatTag;

/**
 * The virtio-balloon check the real-guest tests run on every transport. The guest first touches most
 * of its free memory (so that the host backs the pages the balloon will take); a target set from the
 * host makes the driver inflate: the device's {@code actual} reaches the target, the guest's MemTotal
 * drops by as much (DEFLATE_ON_OOM is not offered, so Linux takes the pages off its total), and the
 * blocks QEMU's guest RAM memfd holds on the host drop ({@link QemuGuestRam}); a statistics sample
 * (STATS_VQ) taken while inflated reports the guest's MemTotal of then; target 0 deflates and MemTotal
 * comes back. The balloon offers STATS_VQ, FREE_PAGE_HINT and PAGE_POISON; not PAGE_REPORTING, which
 * would release the touched pages by itself before the balloon could show that it does.
 * Three parts: {@link #guestLines()} for the guest's /test.sh, {@link #hostSteps} when the guest is
 * ready, {@link #verify} once the guest has ended.
 */
final class BalloonInflateCheck {
    /** 128 MiB in 4 KiB balloon pages: a guest of 512 MiB gives them without trouble. */
    private static final long PAGES = 32768;
    private static final String READY = "BALLOON-READY";
    private static final String INFLATED = "BALLOON-INFLATED";

    private final BalloonDevice device;
    private long ramBefore = -1;
    private long ramInflated = -1;
    private long ramDeflated = -1;
    private BalloonStatistics inflatedStats;

    /** A balloon with queues of 128, split or packed rings offered, and statistics every second. */
    BalloonInflateCheck(boolean packed) {
        device = new BalloonDevice(new BalloonOptions(128, true, false, true, false, true, packed, 1000, 0));
    }

    BalloonDevice device() {
        return device;
    }

    /**
     * The guest's part, after {@link GuestChecks#awaitFunctionLines()} and once virtio_balloon is bound:
     * MemTotal, most free memory touched, {@value #READY}; MemTotal once inflated, {@value #INFLATED};
     * MemTotal once deflated.
     */
    static String guestLines() {
        return String.join("\n",
                "meminfo() { sed -n \"s/^$1: *\\([0-9]*\\) kB/\\1/p\" /proc/meminfo; }",
                "total=$(meminfo MemTotal)",
                "echo \"MEMTOTAL-BEFORE $total\"",
                "fill=$(( $(meminfo MemFree) / 1024 - 64 ))",
                "mkdir -p /fill && mount -t tmpfs -o size=${fill}m tmpfs /fill",
                "dd if=/dev/zero of=/fill/zeros bs=1M count=$fill 2>/dev/null || true",
                "rm /fill/zeros && umount /fill",
                "echo " + READY,
                "inflated() { [ $(meminfo MemTotal) -le $((total - " + PAGES * 4 + ")) ]; }",
                "await 240 inflate inflated",
                "echo \"MEMTOTAL-INFLATED $(meminfo MemTotal)\"",
                "echo " + INFLATED,
                "deflated() { [ $(meminfo MemTotal) -ge $total ]; }",
                "await 240 deflate deflated",
                "echo \"MEMTOTAL-DEFLATED $(meminfo MemTotal)\"");
    }

    /**
     * The host's part: once the guest is ready, the target set and reached, host memory measured
     * before and after, a statistics sample taken while inflated, then target 0 and its deflation.
     */
    void hostSteps(Guest.Running guest, QemuGuestRam ram, Duration max) throws InterruptedException, IOException {
        awaitMarker(guest, READY, max);
        ramBefore = ram.allocatedBytes();
        device.setTargetPages(PAGES);
        awaitHost(guest, () -> device.actualPages() == PAGES, "balloon inflated to the target", max);
        awaitMarker(guest, INFLATED, max);
        ramInflated = ram.allocatedBytes();
        long sampleBefore = device.statistics().sequence();
        device.requestStatistics();
        awaitHost(guest, () -> device.statistics().sequence() > sampleBefore, "a statistics sample", max);
        inflatedStats = device.statistics();
        device.setTargetPages(0);
        awaitHost(guest, () -> device.actualPages() == 0, "balloon deflated", max);
        // deflated pages come back to the host only as the guest touches them again: printed, not checked;
        // and the guest's own wait for the deflation ends with ours, so it may have powered off by now
        ramDeflated = ram.allocatedBytesIfRunning();
    }

    /** MemTotal down by the balloon and back, host memory released, statistics, no error counted. */
    void verify(Guest.Result r, String name) {
        System.out.println(name + ": guest RAM memfd " + (ramBefore >> 20) + " MiB before inflating, "
                + (ramInflated >> 20) + " MiB inflated, "
                + (ramDeflated < 0 ? "QEMU gone when deflated" : (ramDeflated >> 20) + " MiB deflated") + "; balloon "
                + device.counters());
        long before = Long.parseLong(r.value("MEMTOTAL-BEFORE "));
        long inflated = Long.parseLong(r.value("MEMTOTAL-INFLATED "));
        long deflated = Long.parseLong(r.value("MEMTOTAL-DEFLATED "));
        check(r, before - inflated == PAGES * 4, "MemTotal " + before + " kB inflated to " + inflated + " kB");
        check(r, deflated == before, "MemTotal after deflating: " + deflated + " kB, before " + before + " kB");
        // half, not all: the balloon may take pages the guest never touched, which the host never backed
        check(r, ramBefore - ramInflated >= PAGES * 4096 / 2,
                "host memory of guest RAM: " + ramBefore + " bytes before inflating, " + ramInflated + " inflated");
        check(r, inflatedStats.has(StatTag.MEMTOT) && inflatedStats.get(StatTag.MEMTOT) == inflated * 1024,
                "statistics while inflated (guest MemTotal " + inflated + " kB): " + inflatedStats);
        check(r, inflatedStats.has(StatTag.MEMFREE) && inflatedStats.get(StatTag.MEMFREE) > 0,
                "free memory in the statistics: " + inflatedStats);
        for (BalloonError e : BalloonError.values()) {
            check(r, device.errors(e) == 0, "balloon: " + e + " counted: " + device.counters());
        }
    }
}
