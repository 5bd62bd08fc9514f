package org.jvirtio.device.blk;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.blk.backend.file.FileBackend;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Two queues of one device over one file, each driven and served on its own thread at the same time. */
class MultiQueueTest {
    private static final int BATCH = 4;
    private static final int ROUNDS = 150;
    private static final int SECTORS = 4;
    private static final int BYTES = SECTORS * 512;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void twoQueuesTwoThreadsOneFile(boolean packed) throws Exception {
        Path image = dir.resolve("mq.img");
        try (FileBackend backend = FileBackend.create(image, 8L << 20)) {
            BlkRig bench = new BlkRig(backend, BlkRig.options().queues(2).build(), packed);
            assertThat(bench.drivers).hasSize(2);
            Side[] sides = {new Side(bench, 0), new Side(bench, 1)};
            CyclicBarrier start = new CyclicBarrier(2);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                Future<?>[] done = new Future<?>[2];
                for (int q = 0; q < 2; q++) {
                    Side side = sides[q];
                    done[q] = pool.submit((Callable<Void>) () -> {
                        start.await();
                        side.run();
                        return null;
                    });
                }
                for (Future<?> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            for (int q = 0; q < 2; q++) {
                assertThat(bench.devices[q].error()).isEqualTo(QueueError.NONE);
                assertThat(bench.device.metrics(q).get(BlockCounter.WRITES)).isEqualTo((long) ROUNDS * BATCH);
                assertThat(bench.device.metrics(q).get(BlockCounter.READS)).isEqualTo((long) ROUNDS * BATCH);
                assertThat(bench.device.metrics(q).totalErrors()).isZero();
            }
            assertThat(bench.notifier.resets).isEmpty();
            assertThat(bench.memory.guardsIntact()).isTrue();
        }
        // the last round of each queue is in the file
        byte[] file = Files.readAllBytes(image);
        for (int q = 0; q < 2; q++) {
            for (int k = 0; k < BATCH; k++) {
                long sector = Side.sector(q, ROUNDS - 1, k);
                byte[] expected = BlkRig.pattern(BYTES, Side.seed(q, ROUNDS - 1, k));
                assertThat(Arrays.copyOfRange(file, (int) sector * 512, (int) sector * 512 + BYTES)).isEqualTo(expected);
            }
        }
    }

    /** One driver thread: its queue, and buffers allocated up front (the test allocator is single-threaded). */
    private static final class Side {
        private final BlockDevice device;
        private final DriverQueue driver;
        private final GuestMemory memory;
        private final int q;
        private final long[] headers = new long[BATCH];
        private final long[] data = new long[BATCH];
        private final long[] status = new long[BATCH];
        private final ScatterGatherList sg = new ScatterGatherList(4);
        private final ByteBuffer header = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);

        Side(BlkRig bench, int q) {
            this.device = bench.device;
            this.driver = bench.drivers[q];
            this.memory = bench.memory.map();
            this.q = q;
            for (int k = 0; k < BATCH; k++) {
                headers[k] = bench.memory.allocate(16, 16);
                data[k] = bench.memory.allocate(BYTES, 512);
                status[k] = bench.memory.allocate(1, 1);
            }
        }

        /** Queue 0 writes the low half of the disk, queue 1 the high half; rounds overlap within a queue. */
        static long sector(int q, int round, int k) {
            return q * 8192L + (round % 64) * BATCH * SECTORS + (long) k * SECTORS;
        }

        static int seed(int q, int round, int k) {
            return q * 100_000 + round * BATCH + k;
        }

        void run() {
            for (int round = 0; round < ROUNDS; round++) {
                for (int k = 0; k < BATCH; k++) {
                    memory.write(data[k], BlkRig.pattern(BYTES, seed(q, round, k)), 0, BYTES);
                }
                batch(BlockProtocol.T_OUT, round);
                for (int k = 0; k < BATCH; k++) {
                    memory.write(data[k], new byte[BYTES], 0, BYTES);
                }
                batch(BlockProtocol.T_IN, round);
                for (int k = 0; k < BATCH; k++) {
                    byte[] back = new byte[BYTES];
                    memory.read(data[k], back, 0, BYTES);
                    assertThat(back).isEqualTo(BlkRig.pattern(BYTES, seed(q, round, k)));
                }
            }
        }

        private void batch(int type, int round) {
            for (int k = 0; k < BATCH; k++) {
                header.clear();
                header.putInt(0, type).putInt(4, 0).putLong(8, sector(q, round, k));
                memory.write(headers[k], header);
                memory.putByte(status[k], (byte) 0xFF);
                sg.clear().addReadable(headers[k], 16);
                if (type == BlockProtocol.T_OUT) {
                    sg.addReadable(data[k], BYTES).addWritable(status[k], 1);
                } else {
                    sg.addWritable(data[k], BYTES).addWritable(status[k], 1);
                }
                assertThat(driver.add(sg, k, false)).isTrue();
            }
            if (driver.kick()) {
                device.queueNotified(q);
            }
            boolean[] seen = new boolean[BATCH];
            for (int k = 0; k < BATCH; k++) {
                int token = driver.pollUsed();
                assertThat(token).as("queue %d completed all", q).isBetween(0, BATCH - 1);
                assertThat(seen[token]).isFalse();
                seen[token] = true;
                assertThat(memory.getByte(status[token])).isEqualTo(BlockProtocol.S_OK);
            }
            assertThat(driver.error()).isEqualTo(QueueError.NONE);
        }
    }
}
