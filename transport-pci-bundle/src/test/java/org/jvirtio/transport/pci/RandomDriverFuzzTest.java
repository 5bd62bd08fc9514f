package org.jvirtio.transport.pci;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.blk.BlockDevice;
import org.jvirtio.device.blk.BlockDeviceOptions;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.device.blk.request.BlockProtocol;

/**
 * Sequences of random register accesses against a function serving virtio-blk, biased toward the
 * registers that matter (common configuration, doorbells, MSI-X, the PCI_CFG window) and toward values
 * near valid ones (statuses, queue sizes, addresses inside guest memory): nothing may throw out of
 * the function, and after a function reset the device probes and serves a write and a read again.
 */
class RandomDriverFuzzTest {
    private static final int OPS = 3000;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
    void randomAccessesNeverEscapeAndTheDeviceRecovers(long seed) throws Exception {
        try (MemfdGuest guest = new MemfdGuest(8 << 20)) {
            BlockDevice blk = new BlockDevice(MemoryBackend.of(1 << 20, false),
                    BlockDeviceOptions.builder().queues(2).queueSize(16).build());
            RecordingInterrupts interrupts = new RecordingInterrupts();
            VirtioPciFunction fn = new VirtioPciFunction(blk, guest.swappable, interrupts, "fuzz" + seed);
            ModernDriver driver = new ModernDriver(fn, guest);
            driver.probe();
            SplittableRandom r = new SplittableRandom(seed);
            long base = guest.memory.allocate(1 << 20, 4096);
            if (seed % 2 == 0) { // half the runs start from a running device with real rings
                assertThat(driver.negotiate(-1L)).isTrue();
                driver.enableMsix();
                driver.setupQueues(2, 16, true);
                driver.driverOk();
                assertThat(fn.isRunning()).isTrue();
            }
            for (int i = 0; i < OPS; i++) {
                step(r, fn, driver, base);
            }
            fn.reset();
            assertThat(fn.deviceStatus()).isZero();
            // a fresh probe on the same function works
            driver = new ModernDriver(fn, guest);
            driver.probe();
            assertThat(driver.negotiate(-1L)).isTrue();
            driver.enableMsix();
            driver.setupQueues(1, 16, true);
            driver.driverOk();
            assertThat(driver.status() & DeviceStatus.DRIVER_OK).isNotZero();
            assertThat(writeAndRead(guest, driver, interrupts)).isEqualTo(BlockProtocol.S_OK);
            fn.reset();
        }
    }

    private static void step(SplittableRandom r, VirtioPciFunction fn, ModernDriver d, long base) {
        int size = pick(r, new int[] {1, 2, 4, 4, 4, 8, 3, 0});
        switch (r.nextInt(10)) {
            case 0 -> fn.readConfig(r.nextInt(-4, 300), size);
            case 1 -> fn.writeConfig(r.nextInt(-4, 300), size, r.nextInt());
            case 2 -> fn.writeConfig(d.pciCfgCap + r.nextInt(4, 20), pick(r, new int[] {1, 2, 4}), r.nextInt(0, 0x8000));
            case 3 -> fn.readConfig(d.pciCfgCap + 16, pick(r, new int[] {1, 2, 4}));
            case 4 -> fn.readBar(r.nextInt(0, 2), r.nextInt(-8, 0x8010), size);
            case 5 -> fn.writeBar(r.nextInt(0, 2), r.nextInt(-8, 0x8010), size, r.nextLong());
            case 6 -> {
                if (d.queues.length > 0 && r.nextBoolean()) {
                    request(r, d, base); // a real buffer on a ring the device may or may not still use
                }
                fn.writeBar(0, d.notify + 4 * r.nextInt(0, 4), pick(r, new int[] {2, 4, 1}), r.nextInt(4));
            }
            case 7 -> fn.writeBar(0, d.msixTable + r.nextInt(0, 64), pick(r, new int[] {4, 8, 2}), r.nextLong());
            default -> common(r, fn, d, base);
        }
    }

    private static void request(SplittableRandom r, ModernDriver d, long base) {
        DriverQueue q = d.queues[r.nextInt(d.queues.length)];
        if (q.error() != org.jvirtio.api.queue.QueueError.NONE) {
            return;
        }
        while (q.pollUsed() != DriverQueue.NO_TOKEN) {
            // collect what the device completed
        }
        long at = base + (r.nextInt(0, (1 << 20) - 4096) & ~511);
        q.add(new ScatterGatherList(2).addReadable(at, 16).addWritable(at + 512, r.nextInt(1, 1024)), 1, false);
        q.kick();
    }

    private static void common(SplittableRandom r, VirtioPciFunction fn, ModernDriver d, long base) {
        int field = pick(r, new int[] {0x00, 0x08, 0x0c, 0x10, 0x14, 0x14, 0x14, 0x16, 0x18, 0x1a, 0x1c, 0x20, 0x24,
                0x28, 0x30, 0x3a});
        long value = switch (field) {
            case 0x14 -> pick(r, new int[] {0, 1, 3, 11, 15, 0x80, 0x40, r.nextInt(256)});
            case 0x16 -> r.nextInt(0, 4);
            case 0x18 -> pick(r, new int[] {16, 8, 12, 0, 64, r.nextInt(0x10000)});
            case 0x1c, 0x3a -> r.nextInt(0, 3);
            case 0x20, 0x28, 0x30 -> r.nextInt(4) != 0 ? base + (r.nextInt(0, 1 << 20) & ~0xfff) : r.nextLong();
            case 0x0c -> acceptable(r, fn, d);
            default -> r.nextInt(0, 8);
        };
        int size = field >= 0x20 && field < 0x38 ? (r.nextBoolean() ? 8 : 4) : CommonWidth.of(field);
        fn.writeBar(0, d.common + field, size, value);
        fn.readBar(0, d.common + field, size);
    }

    /** Mostly a subset of what the selected window offers (VERSION_1 kept), so FEATURES_OK is reached at times. */
    private static long acceptable(SplittableRandom r, VirtioPciFunction fn, ModernDriver d) {
        if (r.nextInt(4) == 0) {
            return r.nextInt();
        }
        int window = r.nextInt(0, 2);
        fn.writeBar(0, d.common + 0x08, 4, window);
        fn.writeBar(0, d.common + 0x00, 4, window);
        long offered = fn.readBar(0, d.common + 0x04, 4);
        return offered & (r.nextInt() | (window == 1 ? 1 : 0));
    }

    /** The natural width of a common-configuration field, as a well-meaning driver uses it. */
    private static final class CommonWidth {
        static int of(int field) {
            if (field < 0x10) {
                return 4;
            }
            return field == 0x14 || field == 0x15 ? 1 : 2;
        }
    }

    private static int pick(SplittableRandom r, int[] choices) {
        return choices[r.nextInt(choices.length)];
    }

    private static byte writeAndRead(MemfdGuest guest, ModernDriver driver, RecordingInterrupts interrupts)
            throws InterruptedException {
        while (interrupts.pendingMsi() != null) {
            // messages from the random phase
        }
        DriverQueue q = driver.queues[0];
        byte[] data = BlkOverPciTest.pattern(512, 77);
        long header = guest.memory.store(ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(0, BlockProtocol.T_OUT).putLong(8, 5).array());
        long status = guest.memory.store(new byte[] {(byte) 0xFF});
        assertThat(q.add(new ScatterGatherList(3).addReadable(header, 16).addReadable(guest.memory.store(data), 512)
                .addWritable(status, 1), 1, false)).isTrue();
        if (q.kick()) {
            driver.kick(0);
        }
        assertThat(interrupts.nextMsi()).isNotNull();
        assertThat(q.pollUsed()).isEqualTo(1);
        assertThat(guest.memory.map().getByte(status)).isEqualTo(BlockProtocol.S_OK);
        long readHeader = guest.memory.store(ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(0, BlockProtocol.T_IN).putLong(8, 5).array());
        long back = guest.memory.store(new byte[512]);
        long status2 = guest.memory.store(new byte[] {(byte) 0xFF});
        q.enableInterrupts();
        assertThat(q.add(new ScatterGatherList(3).addReadable(readHeader, 16).addWritable(back, 512)
                .addWritable(status2, 1), 2, false)).isTrue();
        if (q.kick()) {
            driver.kick(0);
        }
        assertThat(interrupts.nextMsi()).isNotNull();
        assertThat(q.pollUsed()).isEqualTo(2);
        assertThat(guest.memory.load(back, 512)).isEqualTo(data);
        return guest.memory.map().getByte(status2);
    }
}
