package org.jvirtio.device.net.backend.source;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.NetPort;
import org.jvirtio.device.net.backend.Transmitter;

/**
 * One device's attachment to a {@link SourceBackend}: a thread that delivers batches into the device's
 * sink until the port closes or the backend's budget runs out.
 *
 * <p>A full ring: the thread spins for up to {@link #SPIN_NANOS} (a polling driver refills within
 * microseconds, and a 256-entry ring that the driver empties at several million frames a second is
 * empty again after some 40 µs: parking that long would leave it idle), then parks
 * {@link #PARK_NANOS} at a time, so an idle driver costs little CPU.
 */
final class SourcePort implements NetPort, Runnable {
    /** How long a thread spins on a full ring before it parks. */
    static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
    static final long PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

    private final SourceBackend owner;
    private final FrameSink sink;
    /** The batch handed over at once: {@code batch} views of the one frame. */
    private final ByteBuffer[] frames;
    private final Thread thread;
    private volatile boolean closed;

    SourcePort(SourceBackend owner, FrameSink sink, ByteBuffer frame, int batch, String name) {
        this.owner = owner;
        this.sink = sink;
        this.frames = new ByteBuffer[batch];
        for (int i = 0; i < batch; i++) {
            frames[i] = frame.duplicate();
        }
        this.thread = new Thread(this, name);
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    @Override
    public void run() {
        final FrameSink sink = this.sink;
        final ByteBuffer[] frames = this.frames;
        long idleSince = 0; // 0: the last batch went out whole
        while (!closed) {
            if (owner.isPaused()) {
                LockSupport.parkNanos(PARK_NANOS);
                continue;
            }
            int claimed = owner.claim(frames.length);
            if (claimed == 0) {
                return; // the budget is spent
            }
            int n = sink.receive(frames, claimed);
            if (n > 0) {
                sink.flush();
            }
            owner.settle(claimed, n);
            if (n == claimed) {
                idleSince = 0;
            } else {
                owner.countRefused();
                idleSince = backOff(n > 0 || idleSince == 0 ? System.nanoTime() : idleSince);
            }
        }
    }

    /** Waits a little for room in the ring; returns when the wait began. */
    private static long backOff(long idleSince) {
        if (System.nanoTime() - idleSince < SPIN_NANOS) {
            Thread.onSpinWait();
        } else {
            LockSupport.parkNanos(PARK_NANOS);
        }
        return idleSince;
    }

    @Override
    public Transmitter newTransmitter() {
        return owner.swallower();
    }

    /**
     * Stops the thread after its current batch, without waiting for it: the device may close the port
     * while holding what the thread's delivery waits for (NetPort allows one delivery under way).
     */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
    }
}
