package org.jvirtio.device.balloon.queue;

import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.device.QueueServer;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.device.balloon.BalloonConfigSpace;
import org.jvirtio.device.balloon.BalloonConfigSpace.HintCommand;
import org.jvirtio.device.balloon.BalloonCounter;
import org.jvirtio.device.balloon.BalloonError;
import org.jvirtio.device.balloon.BalloonMetrics;

/**
 * free_page_vq (FREE_PAGE_HINT, virtio 1.2 section 5.5.6.7): a chain is either a command, one
 * device-readable 32-bit id (the driver's echo of a run's id, or its stop), or a block of free pages the
 * driver lends during a run, as device-writable descriptors. {@link BalloonConfigSpace} keeps the run's
 * state; a stop ends the run with DONE at once, and a configuration interrupt tells the driver.
 *
 * <p><b>Hinted pages are counted, never released.</b> Linux may hand a hinted block back to its
 * allocator at any moment (its shrinker does, under memory pressure) without telling the device, even
 * before the device has used the chain, so a page released here could already hold new data; the
 * specification lets a device change hinted pages only if it knows they were not written since the run
 * began, which takes dirty tracking (what a migrating VMM has and this device has not). Free page
 * reporting ({@link ReportingQueue}) is the way to give free memory back.
 */
public final class FreePageHintQueue extends QueueServer {
    private final BalloonMetrics metrics;
    private final BalloonConfigSpace config;
    private final DriverNotifier notifier;
    private final ChainReader reader = new ChainReader();

    public FreePageHintQueue(int index, DeviceQueue queue, DriverNotifier notifier, BalloonMetrics metrics,
            BalloonConfigSpace config) {
        super(index, queue, notifier, "virtio-balloon free_page_vq");
        this.metrics = metrics;
        this.config = config;
        this.notifier = notifier;
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
            if (chain.readableBytes() != 4) {
                metrics.error(BalloonError.BAD_HINT_COMMAND, chain.readableBytes());
            } else {
                command(Integer.toUnsignedLong(reader.reset(chain).readInt()));
            }
        }
        if (config.hinting()) {
            // blocks lent outside a run (a stale one) are used and forgotten
            metrics.add(BalloonCounter.BYTES_HINTED, chain.writableBytes());
        }
        return 0;
    }

    private void command(long id) {
        HintCommand result = config.driverHintCommand(id);
        if (result == HintCommand.STARTED) {
            metrics.increment(BalloonCounter.HINT_RUNS);
        } else if (result == HintCommand.DONE) {
            metrics.increment(BalloonCounter.CONFIG_INTERRUPTS);
            notifier.notifyConfigChanged();
        }
    }
}
