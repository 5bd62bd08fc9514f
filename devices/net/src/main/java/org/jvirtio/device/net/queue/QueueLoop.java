package org.jvirtio.device.net.queue;

import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.device.QueueServer;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.device.net.NetCounter;
import org.jvirtio.device.net.QueueMetrics;

/**
 * A virtio-net queue the driver fills with requests (transmit, control), served by the API's
 * {@link QueueServer} loop, with its kicks and interrupts counted in the queue's {@link NetCounter}s.
 */
abstract class QueueLoop extends QueueServer {
    final QueueMetrics metrics;

    QueueLoop(int index, DeviceQueue queue, DriverNotifier notifier, QueueMetrics metrics) {
        this(index, queue, notifier, metrics, PUBLISH_EVERY);
    }

    QueueLoop(int index, DeviceQueue queue, DriverNotifier notifier, QueueMetrics metrics, int publishEvery) {
        super(index, queue, notifier, "virtio-net queue " + index, publishEvery);
        this.metrics = metrics;
    }

    @Override
    protected final void kicked(int kicks) {
        metrics.add(NetCounter.KICKS, kicks);
    }

    @Override
    protected final void interrupted() {
        metrics.increment(NetCounter.INTERRUPTS);
    }
}
