package org.jvirtio.device.net.backend.l2;

import java.util.concurrent.atomic.LongAdder;

import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.NetPort;
import org.jvirtio.device.net.backend.Transmitter;

/**
 * One device attached to an {@link L2Switch}, with its counters. The counters are {@link LongAdder}s:
 * rx and dropped are added by every other port's transmit threads at once.
 */
public final class SwitchPort implements NetPort {
    private final L2Switch owner;
    private final FrameSink sink;
    private final String name;
    private final LongAdder tx = new LongAdder();
    private final LongAdder rx = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private volatile boolean closed;

    SwitchPort(L2Switch owner, FrameSink sink, String name) {
        this.owner = owner;
        this.sink = sink;
        this.name = name;
    }

    FrameSink sink() {
        return sink;
    }

    boolean isClosed() {
        return closed;
    }

    void countTx() {
        tx.increment();
    }

    void countDelivered(boolean accepted) {
        (accepted ? rx : dropped).increment();
    }

    @Override
    public Transmitter newTransmitter() {
        return new SwitchTransmitter(owner, this);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            owner.detach(this);
        }
    }

    /** Frames this port sent into the switch. */
    public long txFrames() {
        return tx.sum();
    }

    /** Frames the switch delivered to this port and its device accepted. */
    public long rxFrames() {
        return rx.sum();
    }

    /** Frames the switch delivered to this port and its device dropped (no receive buffer). */
    public long droppedFrames() {
        return dropped.sum();
    }

    @Override
    public String toString() {
        return "SwitchPort[" + name + (closed ? ", closed]" : "]");
    }
}
