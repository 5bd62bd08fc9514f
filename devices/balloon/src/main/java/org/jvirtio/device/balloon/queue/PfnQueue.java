package org.jvirtio.device.balloon.queue;

import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.device.QueueServer;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.device.balloon.BalloonCounter;
import org.jvirtio.device.balloon.BalloonError;
import org.jvirtio.device.balloon.BalloonMetrics;

/**
 * inflateq or deflateq (virtio 1.2 section 5.5.6.1): each chain is an array of little-endian 32-bit
 * page frame numbers of 4 KiB pages, device-readable only. Inflated pages are released on the host
 * ({@link PageReleaser}); deflated pages need nothing (a released page faults back in, zeroed, when the
 * guest touches it), so they are only counted. Every chain is used with length 0.
 *
 * <p>A malformed chain (writable descriptors, a length that is not a multiple of 4, more than
 * {@link #MAX_PFNS_PER_REQUEST} numbers) is refused whole: counted, logged, nothing in it acted on. A
 * number whose page is not guest memory is counted and skipped; the rest of the chain still counts.
 */
public final class PfnQueue extends QueueServer {
    /**
     * The most page frame numbers one chain may carry: Linux sends at most 256; the bound keeps a driver
     * from holding the queue's thread with a chain of gigabytes.
     */
    public static final int MAX_PFNS_PER_REQUEST = 1 << 16;
    private static final int PFN_SHIFT = 12;
    private static final long PAGE = GuestMemory.DISCARD_PAGE;

    private final boolean inflate;
    private final BalloonMetrics metrics;
    private final ChainReader reader = new ChainReader();
    private final PageReleaser releaser;

    /** @param inflate true for inflateq (pages released), false for deflateq */
    public PfnQueue(int index, DeviceQueue queue, DriverNotifier notifier, BalloonMetrics metrics, boolean inflate) {
        super(index, queue, notifier, "virtio-balloon " + (inflate ? "inflateq" : "deflateq"));
        this.inflate = inflate;
        this.metrics = metrics;
        this.releaser = new PageReleaser(metrics);
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
        if (chain.writableCount() > 0) {
            metrics.error(BalloonError.WRITABLE_DESCRIPTOR, chain.address(chain.readableCount()));
            return 0;
        }
        long bytes = chain.readableBytes();
        if ((bytes & 3) != 0) {
            metrics.error(BalloonError.ODD_LENGTH, bytes);
            return 0;
        }
        if (bytes / 4 > MAX_PFNS_PER_REQUEST) {
            metrics.error(BalloonError.TOO_MANY_PFNS, bytes / 4);
            return 0;
        }
        GuestMemory memory = chain.memory();
        reader.reset(chain);
        releaser.begin(memory);
        try {
            while (reader.remaining() >= 4) {
                long address = Integer.toUnsignedLong(reader.readInt()) << PFN_SHIFT;
                if (!memory.contains(address, PAGE)) {
                    // a page whose first byte is guest memory runs off the end of its region
                    metrics.error(memory.contains(address, 1) ? BalloonError.PFN_STRADDLES_REGION
                            : BalloonError.PFN_OUTSIDE_MEMORY, address);
                } else if (inflate) {
                    metrics.increment(BalloonCounter.PAGES_INFLATED);
                    releaser.add(address);
                } else {
                    metrics.increment(BalloonCounter.PAGES_DEFLATED);
                }
            }
        } catch (GuestMemoryException e) {
            // the chain was validated against this snapshot: only a region that vanished gets here
            metrics.error(BalloonError.PFN_OUTSIDE_MEMORY, e.address());
        } finally {
            releaser.flush();
        }
        return 0;
    }
}
