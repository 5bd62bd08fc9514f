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
 * with length 0 whether the frame went out or was dropped. A bad chain is counted by reason and
 * dropped; the queue goes on. With CSUM the device completes a partial checksum itself, so every
 * backend (and every receiving guest) sees finished frames.
 */
public final class TxQueue extends QueueLoop {
    private final Transmitter transmitter;
    private final int maxFrame;
    private final boolean csum;
    private final ByteBuffer staging;
    private boolean unflushed;

    /**
     * @param maxFrame the longest Ethernet frame accepted (MTU + 14 + 4)
     * @param csum     CSUM negotiated: the device completes partial checksums before the backend sees them
     */
    public TxQueue(int index, DeviceQueue queue, DriverNotifier notifier, QueueMetrics metrics,
            Transmitter transmitter, int maxFrame, boolean csum) {
        super(index, queue, notifier, metrics);
        this.transmitter = transmitter;
        this.maxFrame = maxFrame;
        this.csum = csum;
        this.staging = ByteBuffer.allocate(NetHeader.SIZE + maxFrame).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    int handle(DescriptorChain chain) {
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
        drop = checkHeader(staging);
        if (drop != null) {
            metrics.increment(drop);
            return 0;
        }
        int frameLength = staging.limit() - NetHeader.SIZE;
        staging.position(NetHeader.SIZE);
        if ((staging.get(NetHeader.FLAGS) & NetHeader.F_NEEDS_CSUM) != 0) {
            int start = staging.getShort(NetHeader.CSUM_START) & 0xFFFF;
            int offset = staging.getShort(NetHeader.CSUM_OFFSET) & 0xFFFF;
            if (start + offset + 2 > frameLength) {
                metrics.increment(NetCounter.TX_BAD_CSUM_OFFSETS);
                return 0;
            }
            Checksum.complete(staging, start, offset);
        }
        transmitter.transmit(staging);
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
        if (bytes > NetHeader.SIZE + maxFrame) {
            return NetCounter.TX_LONG_FRAME;
        }
        return null;
    }

    /** What the header asks for that was not negotiated, or null (no GSO is offered). */
    private NetCounter checkHeader(ByteBuffer frame) {
        if (frame.get(NetHeader.GSO_TYPE) != NetHeader.GSO_NONE) {
            return NetCounter.TX_GSO_NOT_NEGOTIATED;
        }
        if (!csum && (frame.get(NetHeader.FLAGS) & NetHeader.F_NEEDS_CSUM) != 0) {
            return NetCounter.TX_CSUM_NOT_NEGOTIATED;
        }
        return null;
    }

    @Override
    void endOfBatch() {
        if (unflushed) {
            unflushed = false;
            transmitter.flush();
        }
    }
}
