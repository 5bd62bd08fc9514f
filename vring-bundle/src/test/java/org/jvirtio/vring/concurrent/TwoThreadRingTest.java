package org.jvirtio.vring.concurrent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.BitSet;
import java.util.concurrent.atomic.AtomicReference;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.nativeio.Memfd;
import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.memory.GuestMemoryMap;
import org.jvirtio.vring.memory.GuestRegion;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A driver thread and a device thread over one memfd, mapped twice as a VMM and a back end map it.
 * Each side sleeps on a real eventfd whenever it has nothing to do, after re-enabling notifications
 * and re-checking the ring: a notification that was needed but skipped leaves one side asleep, and
 * the bounded wait fails the test. Every chain carries its sequence number and a checksum both ways;
 * the driver proves each one came back exactly once with the device's answer.
 */
class TwoThreadRingTest {
    private static final int QUEUE_SIZE = 256;
    private static final int SLOT_BYTES = 128;
    private static final int MAX_INDIRECT = 8;
    private static final int WAIT_MILLIS = 20_000;
    private static final long MEMORY_BYTES = 4 << 20;

    @ParameterizedTest(name = "{0} ring, event idx {1}, {2} chains")
    @CsvSource({"split, true, 5000000", "packed, true, 5000000", "split, false, 1000000", "packed, false, 1000000"})
    @Timeout(240)
    void chainsCrossBothWaysWithoutLossDuplicationOrMissedNotification(String format, boolean eventIdx, int chains)
            throws Exception {
        long features = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_INDIRECT_DESC)
                | (eventIdx ? VirtioFeature.bit(VirtioFeature.RING_EVENT_IDX) : 0)
                | (format.equals("packed") ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0);
        try (NativeFd memfd = Memfd.create("two-thread-ring", MEMORY_BYTES);
                MappedMemory driverView = MappedMemory.map(memfd, 0, MEMORY_BYTES, true);
                MappedMemory deviceView = MappedMemory.map(memfd, 0, MEMORY_BYTES, true);
                Doorbell kick = new Doorbell();
                Doorbell interrupt = new Doorbell()) {
            long base = 0x4000_0000L;
            GuestMemoryMap driverMemory = GuestMemoryMap.of(new GuestRegion(base, driverView));
            GuestMemoryMap deviceMemory = GuestMemoryMap.of(new GuestRegion(base, deviceView));
            QueueConfig config = new QueueConfig(QUEUE_SIZE, base, base + 0x2000, base + 0x3000);
            long indirect = base + 0x10000;
            long slots = base + 0x20000;
            DriverQueue driver = Vrings.driver(config, features, driverMemory, indirect, MAX_INDIRECT);
            DeviceVring device = Vrings.device(config, features, deviceMemory);

            AtomicReference<Throwable> deviceFailure = new AtomicReference<>();
            long[] deviceCounts = new long[2];
            Thread deviceThread = new Thread(() -> {
                try {
                    deviceCounts[0] = serve(device, deviceMemory, kick, interrupt, chains);
                } catch (Throwable t) {
                    deviceFailure.set(t);
                }
            }, "device");
            deviceThread.start();
            BitSet returned = drive(driver, driverMemory, slots, kick, interrupt, chains, eventIdx);
            deviceThread.join(WAIT_MILLIS);
            assertThat(deviceFailure.get()).isNull();
            assertThat(deviceThread.isAlive()).isFalse();
            assertThat(deviceCounts[0]).isEqualTo(chains);
            assertThat(returned.cardinality()).isEqualTo(chains);
            assertThat(driver.error()).isEqualTo(QueueError.NONE);
            assertThat(device.error()).isEqualTo(QueueError.NONE);
            assertThat(driver.inFlight()).isZero();
            assertThat(kick.rings()).as("kicks are suppressed while the device polls").isLessThan(chains);
            assertThat(interrupt.rings()).as("interrupts are suppressed while the driver polls").isLessThan(chains);
        }
    }

    /**
     * Driver: keeps the ring full of chains of 1 to 4 buffers (some indirect), each carrying its
     * sequence number; checks each answer and that every sequence number returns exactly once.
     */
    private static BitSet drive(DriverQueue driver, GuestMemory memory, long slots, Doorbell kick, Doorbell interrupt,
            int chains, boolean eventIdx) throws Exception {
        driver.disableInterrupts();
        BitSet returned = new BitSet(chains);
        long[] sequenceOfSlot = new long[QUEUE_SIZE];
        int[] freeSlots = new int[QUEUE_SIZE];
        for (int i = 0; i < QUEUE_SIZE; i++) {
            freeSlots[i] = i;
        }
        int freeCount = QUEUE_SIZE;
        ScatterGatherList sg = new ScatterGatherList(4);
        long sent = 0;
        long received = 0;
        while (received < chains) {
            boolean added = false;
            while (sent < chains && freeCount > 0) {
                int slot = freeSlots[freeCount - 1];
                long seq = sent;
                long at = slots + (long) slot * SLOT_BYTES;
                memory.putLong(at, seq);
                memory.putLong(at + 8, ~seq * 31);
                int shape = (int) (seq % 7);
                sg.clear().addReadable(at, 16);
                if (shape >= 4) {
                    sg.addReadable(at + 16, 8);
                }
                sg.addWritable(at + 64, 8);
                if (shape % 2 == 1) {
                    sg.addWritable(at + 72, 8);
                }
                boolean indirect = shape == 5 || shape == 3;
                if (!driver.add(sg, slot, indirect)) {
                    break;
                }
                sequenceOfSlot[slot] = seq;
                freeCount--;
                sent++;
                added = true;
            }
            if (added && driver.kick()) {
                kick.ring();
            }
            int token;
            boolean got = false;
            while ((token = driver.pollUsed()) != DriverQueue.NO_TOKEN) {
                long seq = sequenceOfSlot[token];
                long at = slots + (long) token * SLOT_BYTES;
                if (memory.getLong(at + 64) != answer(seq, ~seq * 31) || driver.lastUsedLength() != 8) {
                    throw new AssertionError("wrong answer for chain " + seq);
                }
                if (returned.get((int) seq)) {
                    throw new AssertionError("chain " + seq + " used twice");
                }
                returned.set((int) seq);
                freeSlots[freeCount++] = token;
                received++;
                got = true;
            }
            if (driver.error() != QueueError.NONE) {
                throw new AssertionError("driver side broke: " + driver.error());
            }
            if (!got && !added && received < chains) {
                // Nothing to do: re-arm interrupts, re-check, and only then sleep.
                if (!driver.enableInterrupts()) {
                    if (!interrupt.await(WAIT_MILLIS)) {
                        throw new AssertionError("driver waited in vain: a needed interrupt was skipped");
                    }
                }
                driver.disableInterrupts();
            }
        }
        return returned;
    }

    /** Device: pops, checks the request, writes the answer, completes; sleeps only after re-arming. */
    private static long serve(DeviceVring device, GuestMemory memory, Doorbell kick, Doorbell interrupt, int chains)
            throws Exception {
        DescriptorChain chain = device.newChain();
        long served = 0;
        while (served < chains) {
            device.disableNotifications();
            while (device.pop(chain)) {
                long seq = chain.memory().getLong(chain.address(0));
                long check = chain.memory().getLong(chain.address(0) + 8);
                memory.putLong(chain.address(chain.readableCount()), answer(seq, check));
                device.addUsed(chain, 8);
                served++;
                if ((served & 31) == 0 && device.publishUsed()) {
                    interrupt.ring();
                }
            }
            if (device.publishUsed()) {
                interrupt.ring();
            }
            if (device.error() != QueueError.NONE) {
                throw new AssertionError("device side broke: " + device.error());
            }
            if (served < chains && !device.enableNotifications()) {
                if (!kick.await(WAIT_MILLIS)) {
                    throw new AssertionError("device waited in vain: a needed kick was skipped");
                }
            }
        }
        return served;
    }

    private static long answer(long seq, long check) {
        return Long.rotateLeft(seq * 0x9E37_79B9_7F4A_7C15L ^ check, 17);
    }
}
