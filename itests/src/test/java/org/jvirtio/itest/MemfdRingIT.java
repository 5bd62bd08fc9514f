package org.jvirtio.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

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
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * Inside Felix, through exported packages only: guest memory is a memfd mapped twice by the native
 * bundle (so JNA's native code loads inside OSGi), once for the driver and once for the device; a ring
 * of each format is placed in it, and 10 000 chains go driver → device → driver through
 * {@link Vrings#driver} and {@link Vrings#device}, with every payload byte checked on both sides.
 *
 * <p>Chain {@code seq} has 1 or 2 device-readable and 1 or 2 device-writable buffers (2 to 4
 * descriptors), every third one in an indirect table. The first 4 bytes of its first readable buffer
 * hold {@code seq}, so the device can check the whole chain without knowing the driver's state. The
 * device answers with the complement of the readable bytes, as many as fit the writable buffers.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class MemfdRingIT {
    private static final int CHAINS = 10_000;
    private static final int QUEUE_SIZE = 256;
    private static final int MAX_INDIRECT = 4;
    /** Bytes per buffer; each token owns {@link #MAX_INDIRECT} of them. */
    private static final int SEGMENT = 64;
    /** Guest-physical address of the memfd region: not 0, so a zero address is never valid. */
    private static final long GUEST_BASE = 0x4000_0000L;
    private static final long MEMORY_SIZE = 1L << 20;

    @Configuration
    public Option[] config() {
        return FelixOptions.jvirtioInFelix();
    }

    @Test
    public void splitRingMovesChainsThroughMemfd() throws Exception {
        moveChains(0);
    }

    @Test
    public void packedRingMovesChainsThroughMemfd() throws Exception {
        moveChains(VirtioFeature.bit(VirtioFeature.RING_PACKED));
    }

    /** Where the rings, the indirect tables and the buffers sit in guest memory; fits both formats. */
    private static final class Placement {
        final QueueConfig config;
        final long indirectArea;
        final long buffers;

        Placement(long base, int size) {
            long desc = base;                                   // split 16n (align 16), packed 16n (align 16)
            long driver = align(desc + 16L * size, 64);         // split 6 + 2n (align 2), packed 4 (align 4)
            long device = align(driver + 6L + 2L * size, 64);   // split 6 + 8n (align 4), packed 4 (align 4)
            indirectArea = align(device + 6L + 8L * size, 4096);
            buffers = align(indirectArea + 16L * size * MAX_INDIRECT, 4096);
            config = new QueueConfig(size, desc, driver, device);
        }

        long buffer(int token, int segment) {
            return buffers + ((long) token * MAX_INDIRECT + segment) * SEGMENT;
        }

        long end(int size) {
            return buffer(size, 0);
        }

        private static long align(long address, long alignment) {
            return (address + alignment - 1) & -alignment;
        }
    }

    private static int readableCount(int seq) {
        return 1 + seq % 2;
    }

    private static int writableCount(int seq) {
        return 1 + (seq / 2) % 2;
    }

    private static boolean indirect(int seq) {
        return seq % 3 == 0;
    }

    /** Length of readable buffer {@code s} of chain {@code seq}: 8 to 63 bytes. */
    private static int readableLength(int seq, int s) {
        return 8 + (seq + 13 * s) % (SEGMENT - 8);
    }

    /** Byte {@code j} of readable buffer {@code s}; bytes 0-3 of buffer 0 hold seq instead. */
    private static byte payload(int seq, int s, int j) {
        if (s == 0 && j < 4) {
            return (byte) (seq >>> (8 * j));
        }
        return (byte) (seq * 31 + s * 7 + j);
    }

    private static int readableBytes(int seq) {
        int total = 0;
        for (int s = 0; s < readableCount(seq); s++) {
            total += readableLength(seq, s);
        }
        return total;
    }

    private static int expectedWritten(int seq) {
        return Math.min(readableBytes(seq), writableCount(seq) * SEGMENT);
    }

    /** Byte {@code k} of the concatenated readable bytes of chain {@code seq}. */
    private static byte streamByte(int seq, int k) {
        int s = 0;
        while (k >= readableLength(seq, s)) {
            k -= readableLength(seq, s);
            s++;
        }
        return payload(seq, s, k);
    }

    private void moveChains(long formatFeature) throws Exception {
        long features = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_INDIRECT_DESC,
                VirtioFeature.RING_EVENT_IDX) | formatFeature;
        // Two mappings of one memfd, as a VMM and a vhost-user back end have: the driver writes through
        // one, the device reads and answers through the other, so every byte crosses MAP_SHARED pages.
        try (NativeFd fd = Memfd.create("jvirtio-itest", MEMORY_SIZE);
                MappedMemory driverMapping = MappedMemory.map(fd, 0, MEMORY_SIZE, true);
                MappedMemory deviceMapping = MappedMemory.map(fd, 0, MEMORY_SIZE, true)) {
            GuestMemoryMap driverMemory = GuestMemoryMap.of(new GuestRegion(GUEST_BASE, driverMapping));
            GuestMemoryMap deviceMemory = GuestMemoryMap.of(new GuestRegion(GUEST_BASE, deviceMapping));
            Placement at = new Placement(GUEST_BASE, QUEUE_SIZE);
            assertTrue("placement fits the memfd", at.end(QUEUE_SIZE) <= GUEST_BASE + MEMORY_SIZE);

            // The driver initialises the ring areas, so it comes first.
            DriverQueue driver = Vrings.driver(at.config.copy(), features, driverMemory, at.indirectArea, MAX_INDIRECT);
            DeviceVring device = Vrings.device(at.config.copy(), features, deviceMemory);
            assertEquals(formatFeature != 0, device.isPacked());

            int[] freeTokens = new int[QUEUE_SIZE];
            int freeTop = 0;
            for (int t = QUEUE_SIZE - 1; t >= 0; t--) {
                freeTokens[freeTop++] = t;
            }
            int[] seqOfToken = new int[QUEUE_SIZE];
            ScatterGatherList sg = new ScatterGatherList(MAX_INDIRECT);
            DescriptorChain chain = device.newChain();
            byte[] bytes = new byte[2 * SEGMENT];
            byte[] zeros = new byte[SEGMENT];
            int sent = 0;
            int received = 0;
            int rounds = 0;

            while (received < CHAINS) {
                assertTrue("no progress", ++rounds < 10 * CHAINS);
                // driver: fill what fits
                while (sent < CHAINS && freeTop > 0) {
                    int token = freeTokens[freeTop - 1];
                    sg.clear();
                    for (int s = 0; s < readableCount(sent); s++) {
                        int len = readableLength(sent, s);
                        for (int j = 0; j < len; j++) {
                            bytes[j] = payload(sent, s, j);
                        }
                        long address = at.buffer(token, s);
                        driverMemory.write(address, bytes, 0, len);
                        sg.addReadable(address, len);
                    }
                    for (int w = 0; w < writableCount(sent); w++) {
                        long address = at.buffer(token, readableCount(sent) + w);
                        driverMemory.write(address, zeros, 0, SEGMENT);
                        sg.addWritable(address, SEGMENT);
                    }
                    if (!driver.add(sg, token, indirect(sent))) {
                        break;
                    }
                    freeTop--;
                    seqOfToken[token] = sent++;
                }
                driver.kick();

                // device: pop, check, answer
                device.disableNotifications();
                while (device.pop(chain)) {
                    assertSame(deviceMemory, chain.memory());
                    serve(device, chain, bytes);
                }
                assertEquals(QueueError.NONE, device.error());
                device.publishUsed();

                // driver: collect and check the answers
                for (int token = driver.pollUsed(); token != DriverQueue.NO_TOKEN; token = driver.pollUsed()) {
                    int seq = seqOfToken[token];
                    int written = expectedWritten(seq);
                    assertEquals("written length of chain " + seq, written, driver.lastUsedLength());
                    int k = 0;
                    for (int w = 0; k < written; w++) {
                        int n = Math.min(SEGMENT, written - k);
                        driverMemory.read(at.buffer(token, readableCount(seq) + w), bytes, 0, n);
                        for (int j = 0; j < n; j++, k++) {
                            assertEquals("answer byte " + k + " of chain " + seq, (byte) ~streamByte(seq, k), bytes[j]);
                        }
                    }
                    freeTokens[freeTop++] = token;
                    received++;
                }
                assertEquals(QueueError.NONE, driver.error());
            }
            assertEquals(CHAINS, sent);
            assertEquals(0, driver.inFlight());
            assertEquals(0, device.inFlight());
            assertFalse("the device still sees buffers", device.hasAvailable());
            assertEquals(QueueError.NONE, device.error());
        }
    }

    /** The device's side of one chain: checks its shape and payload, writes the answer, completes it. */
    private static void serve(DeviceVring device, DescriptorChain chain, byte[] bytes) {
        GuestMemory memory = chain.memory(); // the device's mapping
        memory.read(chain.address(0), bytes, 0, 4);
        int seq = (bytes[0] & 0xFF) | (bytes[1] & 0xFF) << 8 | (bytes[2] & 0xFF) << 16 | (bytes[3] & 0xFF) << 24;
        assertTrue("sequence number " + seq, seq >= 0 && seq < CHAINS);
        assertEquals("readable buffers of chain " + seq, readableCount(seq), chain.readableCount());
        assertEquals("writable buffers of chain " + seq, writableCount(seq), chain.writableCount());
        assertEquals("readable bytes of chain " + seq, readableBytes(seq), chain.readableBytes());
        assertEquals("writable bytes of chain " + seq, writableCount(seq) * SEGMENT, chain.writableBytes());
        // A packed ring advances by the descriptors a chain occupied: 1 for an indirect table.
        int slots = device.isPacked() && !indirect(seq) ? chain.count() : 1;
        assertEquals("ring slots of chain " + seq, slots, chain.ringSlots());
        int k = 0;
        for (int s = 0; s < chain.readableCount(); s++) {
            int len = chain.length(s);
            assertEquals(readableLength(seq, s), len);
            memory.read(chain.address(s), bytes, k, len);
            for (int j = 0; j < len; j++) {
                assertEquals("byte " + j + " of buffer " + s + " of chain " + seq, payload(seq, s, j), bytes[k + j]);
                bytes[k + j] = (byte) ~bytes[k + j];
            }
            k += len;
        }
        int written = (int) Math.min(k, chain.writableBytes());
        assertEquals(expectedWritten(seq), written);
        int done = 0;
        for (int w = chain.readableCount(); w < chain.count() && done < written; w++) {
            int n = Math.min(chain.length(w), written - done);
            memory.write(chain.address(w), bytes, done, n);
            done += n;
        }
        device.addUsed(chain, written);
    }
}
