package org.jvirtio.device.net.backend.tap;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.NetOffload;
import org.jvirtio.device.net.backend.NetPort;
import org.jvirtio.device.net.backend.Transmitter;
import org.jvirtio.device.net.backend.VnetHeader;
import org.jvirtio.nativeio.Epoll;
import org.jvirtio.nativeio.NativeException;
import org.jvirtio.nativeio.Tap;

/**
 * One device on one open TAP interface, and the thread that reads it: the thread waits in epoll for
 * the TAP's descriptor, reads up to {@link #BATCH} frames into one buffer it reuses, hands each to the
 * device's sink behind its vnet header, and flushes the sink once per batch. Closing wakes the thread
 * through the epoll's own eventfd ({@link Epoll#wakeup()}), waits for it to end, then closes the
 * descriptor (which removes an interface that is not persistent).
 *
 * <p>A read that fails (the interface was deleted under us) ends the thread; {@link #readFailure()}
 * says why, and the port transmits on until it is closed.
 */
public final class TapPort implements NetPort {
    /** Frames read before the sink is flushed: the driver sees a batch at once, and waits for no more than this. */
    static final int BATCH = 64;
    private static final int TAG_TAP = 1;
    private static final Logger LOG = System.getLogger("org.jvirtio.device.net.tap");

    private final Tap tap;
    private final FrameSink sink;
    private final Epoll epoll;
    private final Thread reader;
    private final LongAdder rxFrames = new LongAdder();
    private final LongAdder rxDropped = new LongAdder();
    final LongAdder txFrames = new LongAdder();
    final LongAdder txDropped = new LongAdder();
    final LongAdder txErrors = new LongAdder();
    private volatile boolean closed;
    private volatile Exception readFailure;

    private TapPort(Tap tap, FrameSink sink, Epoll epoll) {
        this.tap = tap;
        this.sink = sink;
        this.epoll = epoll;
        this.reader = new Thread(this::readLoop, "jvirtio-tap-" + tap.name());
        reader.setDaemon(true);
    }

    /** Reads {@code tap} for {@code sink} from now on; the port owns the TAP. */
    static TapPort start(Tap tap, FrameSink sink) throws NativeException {
        Epoll epoll = Epoll.create(4);
        try {
            epoll.add(tap.fd(), Epoll.IN, TAG_TAP);
        } catch (NativeException e) {
            epoll.close();
            throw e;
        }
        TapPort port = new TapPort(tap, sink, epoll);
        port.reader.start();
        return port;
    }

    /** The interface's name as the kernel assigned it. */
    public String ifname() {
        return tap.name();
    }

    @Override
    public Transmitter newTransmitter() {
        return new TapTransmitter(tap, this);
    }

    /**
     * Tells the kernel what the driver takes (TUNSETOFFLOAD): with CSUM it may hand over frames whose
     * checksum is partial, with TSO4/TSO6 segments of up to 64 KiB; without, it finishes them itself.
     *
     * @throws IllegalStateException if the kernel refuses (it knows these flags since Linux 2.6.27)
     */
    @Override
    public void enableReceiveOffloads(Set<NetOffload> offloads) {
        int flags = 0;
        if (offloads.contains(NetOffload.CSUM)) {
            flags |= Tap.OFFLOAD_CSUM;
            // the kernel refuses TSO without CSUM, as virtio does
            flags |= offloads.contains(NetOffload.TSO4) ? Tap.OFFLOAD_TSO4 : 0;
            flags |= offloads.contains(NetOffload.TSO6) ? Tap.OFFLOAD_TSO6 : 0;
            flags |= (flags & (Tap.OFFLOAD_TSO4 | Tap.OFFLOAD_TSO6)) != 0 && offloads.contains(NetOffload.TSO_ECN)
                    ? Tap.OFFLOAD_TSO_ECN : 0;
        }
        try {
            tap.setOffload(flags);
        } catch (NativeException e) {
            throw new IllegalStateException("TAP " + tap.name() + ": " + e.getMessage(), e);
        }
    }

    private void readLoop() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(VnetHeader.SIZE + VnetHeader.MAX_GSO_FRAME)
                .order(ByteOrder.LITTLE_ENDIAN);
        int[] ready = new int[4];
        try {
            while (!closed) {
                epoll.wait(ready, -1);
                int frames = 0;
                while (frames < BATCH && !closed) {
                    buffer.clear();
                    if (tap.read(buffer) == 0) {
                        break;
                    }
                    buffer.flip();
                    (sink.receiveWithHeader(buffer) ? rxFrames : rxDropped).increment();
                    frames++;
                }
                if (frames > 0) {
                    sink.flush();
                }
            }
        } catch (NativeException | RuntimeException e) {
            if (!closed) {
                readFailure = e;
                LOG.log(Level.WARNING, "TAP {0}: reading stopped, the guest receives nothing more until its device "
                        + "is reset: {1}", tap.name(), e.toString());
            }
        }
    }

    /** Stops the reader, then closes the descriptor. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            epoll.wakeup();
        } catch (NativeException e) {
            // closing the epoll below ends a wait as well
        }
        boolean interrupted = false;
        try {
            reader.join(5_000);
        } catch (InterruptedException e) {
            interrupted = true;
        }
        try {
            epoll.remove(tap.fd());
        } catch (NativeException | IllegalStateException e) {
            // the descriptor is closed next anyway, and the kernel forgets it then
        }
        epoll.close();
        tap.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Frames read from the TAP that the device took. */
    public long rxFrames() {
        return rxFrames.sum();
    }

    /** Frames read from the TAP that the device dropped (and counted by reason). */
    public long rxDropped() {
        return rxDropped.sum();
    }

    /** Frames written to the TAP. */
    public long txFrames() {
        return txFrames.sum();
    }

    /** Frames not written because the kernel would have blocked. */
    public long txDropped() {
        return txDropped.sum();
    }

    /** Frames the kernel refused (a header it rejects, the interface down or gone). */
    public long txErrors() {
        return txErrors.sum();
    }

    /** Why the reader stopped before the port was closed, or null. */
    public Exception readFailure() {
        return readFailure;
    }

    @Override
    public String toString() {
        return "TapPort[" + tap.name() + (closed ? ", closed]" : "]");
    }
}
