package org.jvirtio.device.net.backend.source;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.jvirtio.device.net.NetHeader;
import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.NetBackend;
import org.jvirtio.device.net.backend.NetPort;
import org.jvirtio.device.net.backend.Transmitter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Delivers frames of one configured length to every attached device as fast as its receive rings take
 * them, and swallows what the devices transmit: the far end of a receive benchmark or interop test.
 *
 * <p>Each attached device gets its own thread ({@link SourcePort}) that hands the device the same
 * frame, a buffer made once, in batches of {@link Config#batch()} (one {@link FrameSink#receive(ByteBuffer[], int)}
 * and one flush per batch); nothing is allocated per frame. A frame the device refuses (its receive ring is full, so the device counts it as
 * RX_NO_BUFFER) is not retried: the thread counts one refusal, backs off and starts the next batch.
 * With {@link Config#frames()} the backend stops after that many delivered frames, in all;
 * {@link #pause()} holds every port back until {@link #resume()} (a driver that discards what its ring
 * holds when it starts, as DPDK's virtio PMD does, should get nothing before it is ready).
 *
 * <p>The frame: broadcast destination, source {@link #SOURCE_MAC}, ethertype 0x88B5 (local
 * experimental), then bytes {@code i & 0xFF} up to the length.
 */
@Component(service = NetBackend.class, configurationPolicy = ConfigurationPolicy.REQUIRE,
        configurationPid = SourceBackend.PID)
@Designate(ocd = SourceBackend.Config.class, factory = true)
public final class SourceBackend implements NetBackend {
    public static final String PID = "org.jvirtio.net.backend.source";
    /** The source address of every frame: locally administered, unicast. */
    public static final byte[] SOURCE_MAC = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    static final int ETHERTYPE = 0x88B5;

    @ObjectClassDefinition(name = "jvirtio net backend: source",
            description = "Delivers frames of one length as fast as the receive rings take them")
    public @interface Config {
        /** Ethernet frame length (header included, no virtio header, no FCS), 14 or more. */
        int frameLength() default 64;

        /** Frames per flush. */
        int batch() default 32;

        /** Frames to deliver in all, then stop; 0 for no end. */
        long frames() default 0;
    }

    private final byte[] frame;
    private final int batch;
    /** Frames still to deliver; Long.MAX_VALUE stands for no end. */
    private final AtomicLong budget;
    private final LongAdder delivered = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final LongAdder swallowed = new LongAdder();
    private volatile boolean paused;

    @Activate
    public SourceBackend(Config config) {
        this(config.frameLength(), config.batch(), config.frames());
    }

    /**
     * @param frames frames to deliver in all, 0 for no end
     */
    public SourceBackend(int frameLength, int batch, long frames) {
        if (frameLength < NetHeader.ETH_HEADER || frameLength > 65535) {
            throw new IllegalArgumentException("frame length must be 14 to 65535: " + frameLength);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be positive: " + batch);
        }
        if (frames < 0) {
            throw new IllegalArgumentException("frames must not be negative: " + frames);
        }
        this.frame = frame(frameLength);
        this.batch = batch;
        this.budget = new AtomicLong(frames == 0 ? Long.MAX_VALUE : frames);
    }

    static byte[] frame(int length) {
        byte[] f = new byte[length];
        for (int i = 0; i < 6; i++) {
            f[i] = (byte) 0xFF;
        }
        System.arraycopy(SOURCE_MAC, 0, f, 6, 6);
        f[12] = (byte) (ETHERTYPE >>> 8);
        f[13] = (byte) ETHERTYPE;
        for (int i = NetHeader.ETH_HEADER; i < length; i++) {
            f[i] = (byte) i;
        }
        return f;
    }

    @Override
    public NetPort attach(FrameSink sink, byte[] mac) {
        SourcePort port = new SourcePort(this, sink, ByteBuffer.wrap(frame.clone()), batch, threadName(mac));
        port.start();
        return port;
    }

    private static String threadName(byte[] mac) {
        StringBuilder b = new StringBuilder("net-source ");
        for (int i = 0; i < mac.length; i++) {
            b.append(i == 0 ? "" : ":").append(String.format("%02x", mac[i] & 0xFF));
        }
        return b.toString();
    }

    /** Takes up to {@code n} frames from the budget; the caller gives back what it did not deliver. */
    int claim(int n) {
        long left;
        long take;
        do {
            left = budget.get();
            if (left == Long.MAX_VALUE) {
                return n;
            }
            take = Math.min(left, n);
        } while (take > 0 && !budget.compareAndSet(left, left - take));
        return (int) take;
    }

    /** A port delivered {@code deliveredNow} of the {@code claimed} frames; the rest go back to the budget. */
    void settle(int claimed, int deliveredNow) {
        if (deliveredNow > 0) {
            delivered.add(deliveredNow);
        }
        if (claimed > deliveredNow && budget.get() != Long.MAX_VALUE) {
            budget.addAndGet(claimed - deliveredNow);
        }
    }

    void countRefused() {
        refused.increment();
    }

    void countSwallowed() {
        swallowed.increment();
    }

    /** The ports deliver nothing until {@link #resume()}; a batch under way completes. */
    public void pause() {
        paused = true;
    }

    public void resume() {
        paused = false;
    }

    boolean isPaused() {
        return paused;
    }

    /** True once the configured number of frames went out (never without a limit). */
    public boolean exhausted() {
        return budget.get() == 0;
    }

    /** Frames the devices accepted, in all. */
    public long delivered() {
        return delivered.sum();
    }

    /** Times a device refused a frame (a full receive ring); each is one RX_NO_BUFFER at the device. */
    public long refused() {
        return refused.sum();
    }

    /** Frames the attached devices transmitted (discarded). */
    public long swallowed() {
        return swallowed.sum();
    }

    public int frameLength() {
        return frame.length;
    }

    @Override
    public String toString() {
        return "SourceBackend[" + frame.length + " B, " + delivered() + " delivered]";
    }

    /** A transmitter that drops everything: the source does not listen. */
    Transmitter swallower() {
        return new Transmitter() {
            @Override
            public void transmit(ByteBuffer f) {
                countSwallowed();
            }

            @Override
            public void flush() {
                // nothing held back
            }
        };
    }
}
