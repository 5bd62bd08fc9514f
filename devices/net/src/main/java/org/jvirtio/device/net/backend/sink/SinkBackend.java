package org.jvirtio.device.net.backend.sink;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.LongAdder;

import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.NetBackend;
import org.jvirtio.device.net.backend.NetPort;
import org.jvirtio.device.net.backend.Transmitter;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Swallows every transmitted frame and counts it, and delivers nothing: the far end of a transmit
 * benchmark, where only the device's own cost should show. Each transmitter counts its batch in plain
 * fields (one thread at a time uses it) and adds the batch to the backend's {@link LongAdder}s at the
 * flush, because every transmit queue of every attached device adds to them from its own thread: the
 * totals include every batch whose flush has returned.
 */
@Component(service = NetBackend.class, configurationPolicy = ConfigurationPolicy.REQUIRE,
        configurationPid = SinkBackend.PID)
@Designate(ocd = SinkBackend.Config.class, factory = true)
public final class SinkBackend implements NetBackend {
    public static final String PID = "org.jvirtio.net.backend.sink";

    @ObjectClassDefinition(name = "jvirtio net backend: sink", description = "Counts and discards transmitted frames")
    public @interface Config {
    }

    private final LongAdder frames = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final LongAdder flushes = new LongAdder();

    public SinkBackend() {
    }

    @Override
    public NetPort attach(FrameSink sink, byte[] mac) {
        return new NetPort() {
            @Override
            public Transmitter newTransmitter() {
                return new Transmitter() {
                    private long batchFrames;
                    private long batchBytes;

                    @Override
                    public void transmit(ByteBuffer frame) {
                        batchFrames++;
                        batchBytes += frame.remaining();
                    }

                    @Override
                    public void flush() {
                        frames.add(batchFrames);
                        bytes.add(batchBytes);
                        batchFrames = 0;
                        batchBytes = 0;
                        flushes.increment();
                    }
                };
            }

            @Override
            public void close() {
                // nothing was ever delivered, so nothing to stop
            }
        };
    }

    /** Frames transmitted by every attached device. */
    public long frames() {
        return frames.sum();
    }

    /** Their bytes (Ethernet header included, virtio header not). */
    public long bytes() {
        return bytes.sum();
    }

    /** Batches ended. */
    public long flushes() {
        return flushes.sum();
    }

    @Override
    public String toString() {
        return "SinkBackend[" + frames() + " frames]";
    }
}
