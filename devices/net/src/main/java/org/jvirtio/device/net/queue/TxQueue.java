package org.jvirtio.device.net.queue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.api.device.DriverNotifier;
import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DeviceQueue;
import org.jvirtio.device.net.NetCounter;
import org.jvirtio.device.net.NetHeader;
import org.jvirtio.device.net.QueueMetrics;
import org.jvirtio.device.net.backend.Transmitter;

/**
 * A transmit queue: each chain is a virtio-net header and one Ethernet frame, all device-readable. The
 * frame is copied once into a buffer this queue reuses and handed to the backend; the chain is used
 * with length 0 whether the frame went out or was dropped. A bad chain, or a header the device cannot
 * honour, is counted by reason and dropped; the queue goes on.
 *
 * <p>Offloads: over a backend that carries headers ({@link TxOffloads#passHeader()}) the checked header
 * goes along with the frame, and the backend (a TAP: the host kernel) completes checksums and cuts
 * segments. Over any other backend the device completes a partial checksum itself, so the backend (and
 * every receiving guest) sees finished frames; segmentation is then never negotiated.
 */
public final class TxQueue extends QueueLoop {
    /**
     * Chains completed between two publications of the used ring (and flushes of the backend), a
     * burst as DPDK's vhost counts one: the driver only reclaims its transmit buffers from them, and
     * against every 8, this measured 1.19x the frame rate at 64 bytes (benchmarks/RESULTS.md).
     */
    static final int PUBLISH_EVERY_FRAMES = 32;

    private final Transmitter transmitter;
    private final int maxFrame;
    private final TxOffloads offloads;
    private final ByteBuffer staging;
    private boolean unflushed;

    /**
     * @param maxFrame the longest Ethernet frame accepted without segmentation (MTU + 14 + 4)
     * @param offloads what the driver negotiated and whether the backend takes the header
     */
    public TxQueue(int index, DeviceQueue queue, DriverNotifier notifier, QueueMetrics metrics,
            Transmitter transmitter, int maxFrame, TxOffloads offloads) {
        super(index, queue, notifier, metrics, PUBLISH_EVERY_FRAMES);
        this.transmitter = transmitter;
        this.maxFrame = maxFrame;
        this.offloads = offloads;
        // direct, so a backend writing to a descriptor (a TAP) takes it as it is
        this.staging = ByteBuffer.allocateDirect(NetHeader.SIZE + offloads.maxChainFrame(maxFrame))
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    protected int handle(DescriptorChain chain) {
        NetCounter drop = check(chain);
        if (drop != null) {
            metrics.increment(drop);
            return 0;
        }
        try {
            ChainBytes.gather(chain, staging);
        } catch (GuestMemoryException e) {
            metrics.increment(NetCounter.TX_GUEST_MEMORY);
            return 0;
        }
        int frameLength = staging.limit() - NetHeader.SIZE;
        drop = offloads.check(staging, frameLength, maxFrame);
        if (drop != null) {
            metrics.increment(drop);
            return 0;
        }
        if (offloads.passHeader()) {
            transmitter.transmitWithHeader(staging);
        } else {
            staging.position(NetHeader.SIZE);
            if ((staging.get(NetHeader.FLAGS) & NetHeader.F_NEEDS_CSUM) != 0) {
                Checksum.complete(staging, staging.getShort(NetHeader.CSUM_START) & 0xFFFF,
                        staging.getShort(NetHeader.CSUM_OFFSET) & 0xFFFF);
            }
            transmitter.transmit(staging);
        }
        unflushed = true;
        metrics.increment(NetCounter.TX_FRAMES);
        metrics.add(NetCounter.TX_BYTES, frameLength);
        return 0;
    }

    /** What is wrong with the chain's shape, or null. */
    private NetCounter check(DescriptorChain chain) {
        if (chain.writableCount() != 0) {
            return NetCounter.TX_WRITABLE_DESCRIPTOR;
        }
        long bytes = chain.readableBytes();
        if (bytes < NetHeader.SIZE) {
            return NetCounter.TX_SHORT_HEADER;
        }
        if (bytes < NetHeader.SIZE + NetHeader.ETH_HEADER) {
            return NetCounter.TX_SHORT_FRAME;
        }
        if (bytes > NetHeader.SIZE + offloads.maxChainFrame(maxFrame)) {
            return NetCounter.TX_LONG_FRAME;
        }
        return null;
    }

    @Override
    protected void endOfBatch() {
        if (unflushed) {
            unflushed = false;
            transmitter.flush();
        }
    }
}
