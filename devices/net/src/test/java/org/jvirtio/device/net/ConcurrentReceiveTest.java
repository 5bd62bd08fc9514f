package org.jvirtio.device.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Several senders deliver into one receive queue at once (as several switch ports' transmit threads
 * do): the queue's lock keeps every frame whole and in a chain of its own, and none is lost.
 */
class ConcurrentReceiveTest {
    private static final int SENDERS = 4;
    private static final int FRAMES_EACH = NetRig.QUEUE_SIZE / SENDERS;

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void framesFromManyThreadsArriveWhole(boolean packed) throws Exception {
        for (int round = 0; round < 20; round++) {
            NetRig rig = new NetRig(packed);
            for (int i = 0; i < NetRig.QUEUE_SIZE; i++) {
                rig.postRx(0, 2048);
            }
            Set<String> sent = new HashSet<>();
            List<List<byte[]>> perSender = new ArrayList<>();
            for (int s = 0; s < SENDERS; s++) {
                List<byte[]> frames = new ArrayList<>();
                for (int i = 0; i < FRAMES_EACH; i++) {
                    byte[] f = Frames.frame(Frames.mac(1), Frames.mac(10 + s), 60 + 97 * i + s, s * 100 + i);
                    frames.add(f);
                    sent.add(Arrays.toString(f));
                }
                perSender.add(frames);
            }
            CyclicBarrier start = new CyclicBarrier(SENDERS);
            ExecutorService pool = Executors.newFixedThreadPool(SENDERS);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (List<byte[]> frames : perSender) {
                    done.add(pool.submit(() -> {
                        start.await();
                        for (byte[] f : frames) {
                            assertThat(rig.backend.sink.receive(ByteBuffer.wrap(f))).isTrue();
                            rig.backend.sink.flush();
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
            Set<String> received = new HashSet<>();
            NetRig.Used used;
            while ((used = rig.pollRx(0)) != null) {
                received.add(Arrays.toString(Arrays.copyOfRange(used.bytes(), NetHeader.SIZE, used.bytes().length)));
            }
            assertThat(received).isEqualTo(sent);
            assertThat(rig.device.metrics(0).get(NetCounter.RX_FRAMES)).isEqualTo(NetRig.QUEUE_SIZE);
            assertThat(rig.memory.guardsIntact()).isTrue();
        }
    }
}
