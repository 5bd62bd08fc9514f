package org.jvirtio.device.console.queue;

import java.nio.ByteBuffer;

import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.device.console.backend.ConsolePort;

/**
 * The way guest output reaches one port's backend: from the port's transmit queue and from emerg_wr,
 * which a driver writes on another thread. One lock per chain (not per descriptor) keeps the two from
 * interleaving inside the backend, which the SPI promises never sees overlapping writes.
 */
public final class PortOutput {
    private final ConsolePort port;
    private final ByteBuffer oneByte = ByteBuffer.allocate(1);

    public PortOutput(ConsolePort port) {
        this.port = port;
    }

    public ConsolePort port() {
        return port;
    }

    /**
     * Hands the chain's readable bytes to the backend through {@code staging}, a chunk at a time.
     *
     * @return bytes handed over
     * @throws org.jvirtio.api.memory.GuestMemoryException if a descriptor left guest memory meanwhile;
     *         what came before it was handed over
     */
    long write(DescriptorChain chain, ByteBuffer staging) {
        long total = 0;
        synchronized (this) {
            for (int i = 0; i < chain.readableCount(); i++) {
                long address = chain.address(i);
                long left = Integer.toUnsignedLong(chain.length(i));
                while (left > 0) {
                    int n = (int) Math.min(left, staging.capacity());
                    staging.clear().limit(n);
                    chain.memory().read(address, staging);
                    staging.flip();
                    port.write(staging);
                    address += n;
                    left -= n;
                    total += n;
                }
            }
        }
        return total;
    }

    /** One character from emerg_wr. */
    public void writeByte(byte b) {
        synchronized (this) {
            oneByte.clear();
            oneByte.put(0, b);
            port.write(oneByte);
        }
    }
}
