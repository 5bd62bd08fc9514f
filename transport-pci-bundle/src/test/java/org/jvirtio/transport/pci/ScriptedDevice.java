package org.jvirtio.transport.pci;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.DeviceActivation;
import org.jvirtio.api.device.DeviceActivationException;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;

/**
 * A small device for transport tests, with what the blk model cannot be made to do: it offers
 * RING_RESET, can refuse activation, can block in queueNotified, and exposes its activation so a test
 * can raise config changes or ask for a reset. It completes every chain it pops with length 0.
 */
final class ScriptedDevice implements VirtioDevice {
    static final int QUEUES = 2;
    static final int MAX_SIZE = 16;
    static final long OFFERED = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_RESET) | 1L;

    final byte[] config = {1, 2, 3, 4, 0, 0, 0, 0};
    volatile boolean failActivation;
    volatile CountDownLatch block;
    volatile CountDownLatch entered = new CountDownLatch(1);
    volatile RuntimeException throwOnServe;
    volatile DeviceActivation activation;
    final AtomicInteger served = new AtomicInteger();
    final AtomicInteger resets = new AtomicInteger();

    @Override
    public int deviceId() {
        return VirtioDeviceId.BALLOON;
    }

    @Override
    public int queueCount() {
        return QUEUES;
    }

    @Override
    public int queueMaxSize(int index) {
        return MAX_SIZE;
    }

    @Override
    public long offeredFeatures() {
        return OFFERED;
    }

    @Override
    public int configSize() {
        return config.length;
    }

    @Override
    public synchronized void readConfig(int offset, byte[] dst, int dstOffset, int length) {
        for (int i = 0; i < length; i++) {
            int at = offset + i;
            dst[dstOffset + i] = at >= 0 && at < config.length ? config[at] : 0;
        }
    }

    @Override
    public synchronized void writeConfig(int offset, byte[] src, int srcOffset, int length) {
        for (int i = 0; i < length; i++) {
            int at = offset + i;
            if (at >= 4 && at < config.length) { // bytes 4..7 writable
                config[at] = src[srcOffset + i];
            }
        }
    }

    @Override
    public void activate(DeviceActivation a) {
        if (failActivation) {
            throw new DeviceActivationException("scripted refusal");
        }
        activation = a;
    }

    @Override
    public void queueNotified(int index) {
        entered.countDown();
        CountDownLatch b = block;
        if (b != null) {
            try {
                b.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        RuntimeException t = throwOnServe;
        if (t != null) {
            throw t;
        }
        DeviceQueue q = activation.queue(index);
        if (q == null) {
            return;
        }
        DescriptorChain chain = q.newChain();
        while (q.pop(chain)) {
            q.addUsed(chain, 0);
            served.incrementAndGet();
        }
        if (q.publishUsed()) {
            activation.notifier().notifyUsed(index);
        }
    }

    @Override
    public void reset() {
        activation = null;
        resets.incrementAndGet();
    }
}
