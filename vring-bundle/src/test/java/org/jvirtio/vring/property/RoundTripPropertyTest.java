package org.jvirtio.vring.property;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Random;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;

/**
 * Random chain shapes through driver side, device side and back, for both ring formats, with and
 * without indirect tables, EVENT_IDX and IN_ORDER: the device sees exactly the buffers the driver
 * added, the driver sees exactly the bytes and lengths the device wrote, and every token comes back
 * once.
 */
class RoundTripPropertyTest {
    private static final int MAX_INDIRECT = 8;

    /** One chain: readable and writable buffer lengths, indirect or not. */
    record Shape(List<Integer> readable, List<Integer> writable, boolean indirect) {
        int count() {
            return readable.size() + writable.size();
        }
    }

    @Provide
    Arbitrary<Shape> shapes() {
        Arbitrary<List<Integer>> lengths = Arbitraries.integers().between(1, 96).list().ofMaxSize(4);
        return Combinators.combine(lengths, lengths, Arbitraries.of(true, false))
                .as(Shape::new)
                .filter(s -> s.count() > 0);
    }

    @Property(tries = 300)
    void everyByteCrossesBothWays(
            @ForAll boolean packed,
            @ForAll boolean eventIdx,
            @ForAll boolean inOrder,
            @ForAll @IntRange(min = 0, max = 8) int sizeExponent,
            @ForAll @IntRange(min = 1, max = 3) int rounds,
            @ForAll @Size(min = 1, max = 40) List<@From("shapes") Shape> shapes,
            @ForAll long seed) throws Exception {
        int size = packed ? Math.max(1, (1 << sizeExponent) - sizeExponent) : 1 << sizeExponent;
        long features = VirtioFeature.of(VirtioFeature.RING_INDIRECT_DESC)
                | (packed ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0)
                | (eventIdx ? VirtioFeature.bit(VirtioFeature.RING_EVENT_IDX) : 0)
                | (inOrder ? VirtioFeature.bit(VirtioFeature.IN_ORDER) : 0);
        TestMemory memory = new TestMemory(1 << 20);
        QueueConfig config = RingPlacement.place(memory, size);
        long indirectArea = RingPlacement.indirectArea(memory, size, MAX_INDIRECT);
        DriverQueue driver = Vrings.driver(config, features, memory.map(), indirectArea, MAX_INDIRECT);
        DeviceVring device = Vrings.device(config, features, memory.map());
        Random random = new Random(seed);

        for (int round = 0; round < rounds; round++) {
            List<Sent> inFlight = new ArrayList<>();
            ScatterGatherList sg = new ScatterGatherList(8);
            for (Shape shape : shapes) {
                boolean indirect = shape.indirect && shape.count() <= MAX_INDIRECT;
                if (!indirect && shape.count() > size) {
                    continue;
                }
                Sent sent = Sent.prepare(shape, memory, random);
                sent.fill(sg);
                if (!driver.add(sg, inFlight.size(), indirect)) {
                    break;
                }
                inFlight.add(sent);
            }
            driver.kick();

            DescriptorChain chain = device.newChain();
            Deque<int[]> held = new ArrayDeque<>();
            for (Sent sent : inFlight) {
                assertThat(device.pop(chain)).isTrue();
                sent.checkSeenByDevice(chain);
                int written = sent.deviceWrites(chain, random);
                held.add(new int[] {chain.head(), chain.ringSlots(), written, held.size()});
            }
            assertThat(device.pop(chain)).isFalse();
            List<int[]> completion = new ArrayList<>(held);
            if (!inOrder) {
                Collections.shuffle(completion, random);
            }
            for (int[] done : completion) {
                device.addUsed(done[0], done[1], done[2]);
            }
            device.publishUsed();

            boolean[] back = new boolean[inFlight.size()];
            int token;
            int expectedNext = 0;
            while ((token = driver.pollUsed()) != DriverQueue.NO_TOKEN) {
                assertThat(back[token]).as("token %d came back twice", token).isFalse();
                back[token] = true;
                if (inOrder) {
                    assertThat(token).isEqualTo(expectedNext++);
                }
                inFlight.get(token).checkSeenByDriver(memory, driver.lastUsedLength());
            }
            for (boolean b : back) {
                assertThat(b).isTrue();
            }
            assertThat(driver.error()).isEqualTo(QueueError.NONE);
            assertThat(device.error()).isEqualTo(QueueError.NONE);
            assertThat(driver.inFlight()).isZero();
            assertThat(memory.guardsIntact()).isTrue();
        }
    }

    /** A chain as the driver placed it: where each buffer is and what the device must read / write. */
    private record Sent(long[] addresses, int[] lengths, int readable, byte[][] payload, byte[][] answer) {
        static Sent prepare(Shape shape, TestMemory memory, Random random) {
            int n = shape.count();
            long[] addresses = new long[n];
            int[] lengths = new int[n];
            byte[][] payload = new byte[n][];
            for (int i = 0; i < n; i++) {
                boolean readable = i < shape.readable().size();
                lengths[i] = readable ? shape.readable().get(i) : shape.writable().get(i - shape.readable().size());
                payload[i] = new byte[lengths[i]];
                if (readable) {
                    random.nextBytes(payload[i]);
                    addresses[i] = memory.store(payload[i]);
                } else {
                    addresses[i] = memory.store(payload[i]);
                }
            }
            return new Sent(addresses, lengths, shape.readable().size(), payload, new byte[n][]);
        }

        void fill(ScatterGatherList sg) {
            sg.clear();
            for (int i = 0; i < addresses.length; i++) {
                if (i < readable) {
                    sg.addReadable(addresses[i], lengths[i]);
                } else {
                    sg.addWritable(addresses[i], lengths[i]);
                }
            }
        }

        void checkSeenByDevice(DescriptorChain chain) {
            assertThat(chain.count()).isEqualTo(addresses.length);
            assertThat(chain.readableCount()).isEqualTo(readable);
            for (int i = 0; i < addresses.length; i++) {
                assertThat(chain.address(i)).isEqualTo(addresses[i]);
                assertThat(chain.length(i)).isEqualTo(lengths[i]);
                if (i < readable) {
                    byte[] seen = new byte[lengths[i]];
                    chain.memory().read(chain.address(i), seen, 0, seen.length);
                    assertThat(seen).isEqualTo(payload[i]);
                }
            }
        }

        /** Writes random bytes into a random prefix of the writable buffers; returns the byte count. */
        int deviceWrites(DescriptorChain chain, Random random) {
            int total = 0;
            for (int i = readable; i < addresses.length; i++) {
                int n = random.nextInt(lengths[i] + 1);
                answer[i] = new byte[n];
                random.nextBytes(answer[i]);
                chain.memory().write(chain.address(i), answer[i], 0, n);
                total += n;
                if (n < lengths[i]) {
                    for (int j = i + 1; j < addresses.length; j++) {
                        answer[j] = new byte[0];
                    }
                    break;
                }
            }
            return total;
        }

        void checkSeenByDriver(TestMemory memory, int usedLength) {
            int total = 0;
            for (int i = readable; i < addresses.length; i++) {
                byte[] expected = answer[i];
                assertThat(memory.load(addresses[i], expected.length)).isEqualTo(expected);
                total += expected.length;
            }
            assertThat(usedLength).isEqualTo(total);
        }
    }
}
