package org.jvirtio.device.net.backend.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.NetPort;
import org.junit.jupiter.api.Test;

/** The source backend against a sink that takes a few frames per flush, like a small receive ring. */
class SourceBackendTest {

    /** Accepts {@code room} frames, then refuses until the next flush frees the ring again. */
    private static final class RingLikeSink implements FrameSink {
        final int room;
        final AtomicLong accepted = new AtomicLong();
        final AtomicLong refused = new AtomicLong();
        final AtomicInteger flushes = new AtomicInteger();
        volatile int length = -1;
        volatile boolean intact = true;
        private int inRing;

        RingLikeSink(int room) {
            this.room = room;
        }

        @Override
        public boolean receive(ByteBuffer frame) {
            int before = frame.position();
            length = frame.remaining();
            intact &= frame.get(before + 12) == (byte) 0x88 && frame.get(before + 13) == (byte) 0xB5
                    && frame.get(before) == (byte) 0xFF;
            if (inRing == room) {
                refused.incrementAndGet();
                return false;
            }
            inRing++;
            accepted.incrementAndGet();
            return true;
        }

        @Override
        public void flush() {
            flushes.incrementAndGet();
            inRing = 0; // the driver takes everything at once
        }
    }

    private static void await(java.util.function.BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("in time").isNegative();
            Thread.sleep(1);
        }
    }

    @Test
    void deliversExactlyTheBudgetInBatchesAndCountsRefusals() throws Exception {
        SourceBackend source = new SourceBackend(60, 8, 1000);
        RingLikeSink sink = new RingLikeSink(5);
        try (NetPort port = source.attach(sink, new byte[6])) {
            await(source::exhausted);
            await(() -> sink.accepted.get() == 1000);
            Thread.sleep(20);
            assertThat(source.delivered()).isEqualTo(1000);
            assertThat(sink.accepted.get()).isEqualTo(1000);
            // every batch of 8 met a ring of 5: 5 accepted, one refusal, then the next batch
            assertThat(source.refused()).isEqualTo(sink.refused.get()).isEqualTo(199);
            assertThat(sink.flushes.get()).isEqualTo(200);
            assertThat(sink.length).isEqualTo(60);
            assertThat(sink.intact).isTrue();
        }
    }

    @Test
    void pausedDeliversNothingUntilResumed() throws Exception {
        SourceBackend source = new SourceBackend(64, 32, 100);
        source.pause();
        RingLikeSink sink = new RingLikeSink(1000);
        try (NetPort port = source.attach(sink, new byte[6])) {
            Thread.sleep(50);
            assertThat(sink.accepted.get()).isZero();
            source.resume();
            await(() -> sink.accepted.get() == 100);
            assertThat(source.exhausted()).isTrue();
            assertThat(source.refused()).isZero();
        }
    }

    @Test
    void withoutBudgetItRunsUntilClosedAndSwallowsWhatTheDeviceSends() throws Exception {
        SourceBackend source = new SourceBackend(14, 4, 0);
        RingLikeSink sink = new RingLikeSink(4);
        NetPort port = source.attach(sink, new byte[6]);
        await(() -> sink.accepted.get() > 10_000);
        port.newTransmitter().transmit(ByteBuffer.allocate(64));
        port.close();
        Thread.sleep(50);
        long after = sink.accepted.get();
        Thread.sleep(50);
        assertThat(sink.accepted.get()).as("stopped").isEqualTo(after);
        assertThat(source.exhausted()).isFalse();
        assertThat(source.swallowed()).isEqualTo(1);
    }

    @Test
    void rejectsImpossibleConfigurations() {
        assertThatThrownBy(() -> new SourceBackend(13, 32, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SourceBackend(64, 0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SourceBackend(64, 32, -1)).isInstanceOf(IllegalArgumentException.class);
    }
}
