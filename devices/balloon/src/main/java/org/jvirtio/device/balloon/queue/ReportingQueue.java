package org.jvirtio.device.balloon.queue;

import java.io.UncheckedIOException;

import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.device.QueueServer;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.device.balloon.BalloonConfigSpace;
import org.jvirtio.device.balloon.BalloonCounter;
import org.jvirtio.device.balloon.BalloonError;
import org.jvirtio.device.balloon.BalloonMetrics;

/**
 * reporting_vq (PAGE_REPORTING, virtio 1.2 section 5.5.6.6): each device-writable descriptor of a chain
 * is a range of free guest pages, which the driver keeps isolated until the chain is used; the device
 * releases their host memory before it uses the chain, so the guest's next allocation of them finds
 * zeros. Linux reports blocks of 2 MiB or more, up to 32 per chain.
 *
 * <p>Nothing is released while the driver poisons free pages (poison_val not 0): the guest checks the
 * poison when it allocates the page again, and a released page would read as zeros. A range not
 * aligned to 4 KiB, or not inside one region, is counted and skipped; a chain with device-readable
 * descriptors is refused whole.
 */
public final class ReportingQueue extends QueueServer {
    private static final long PAGE = GuestMemory.DISCARD_PAGE;

    private final BalloonMetrics metrics;
    private final BalloonConfigSpace config;

    public ReportingQueue(int index, DeviceQueue queue, DriverNotifier notifier, BalloonMetrics metrics,
            BalloonConfigSpace config) {
        super(index, queue, notifier, "virtio-balloon reporting_vq");
        this.metrics = metrics;
        this.config = config;
    }

    @Override
    protected void kicked(int kicks) {
        metrics.add(BalloonCounter.KICKS, kicks);
    }

    @Override
    protected void interrupted() {
        metrics.increment(BalloonCounter.INTERRUPTS);
    }

    @Override
    protected int handle(DescriptorChain chain) {
        metrics.increment(BalloonCounter.REQUESTS);
        if (chain.readableCount() > 0) {
            metrics.error(BalloonError.READABLE_DESCRIPTOR, chain.address(0));
            return 0;
        }
        metrics.increment(BalloonCounter.REPORTS);
        boolean poisoned = config.poisonVal() != 0;
        GuestMemory memory = chain.memory();
        for (int i = 0; i < chain.count(); i++) {
            long address = chain.address(i);
            long length = Integer.toUnsignedLong(chain.length(i));
            metrics.add(BalloonCounter.BYTES_REPORTED, length);
            if (((address | length) & (PAGE - 1)) != 0 || length == 0) {
                metrics.error(BalloonError.RANGE_UNALIGNED, address);
            } else if (poisoned) {
                metrics.add(BalloonCounter.BYTES_KEPT_POISONED, length);
            } else {
                release(memory, address, length);
            }
        }
        return 0;
    }

    private void release(GuestMemory memory, long address, long length) {
        try {
            long released = memory.discard(address, length);
            metrics.add(BalloonCounter.BYTES_RELEASED, released);
            metrics.add(BalloonCounter.PAGES_NOT_RELEASED, (length - released) / PAGE);
        } catch (GuestMemoryException notInOneRegion) {
            metrics.error(BalloonError.RANGE_OUTSIDE_MEMORY, address);
        } catch (UncheckedIOException refused) {
            metrics.error(BalloonError.RELEASE_FAILED, address);
            metrics.add(BalloonCounter.PAGES_NOT_RELEASED, length / PAGE);
        }
    }
}
