package org.jvirtio.vring.property;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.QueueError;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.InFlightLog;
import org.jvirtio.vring.testkit.InFlightLog.Popped;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestMemory;

/**
 * Random crashes and restarts of the device side, for both ring formats, with and without indirect
 * tables, EVENT_IDX and IN_ORDER: each device instance pops some chains (resubmitted ones first, then
 * fresh ones), completes a random part of them in random order and dies; the next one is built at the
 * positions a transport computes from its in-flight record and gets those chains resubmitted. The
 * device sees every chain as the driver added it, and the driver sees every token used exactly once.
 */
class ResubmitPropertyTest {
    private static final int MAX_INDIRECT = 8;

    @Property(tries = 500)
    void everyTokenComesBackOnceAcrossRestarts(
            @ForAll boolean packed,
            @ForAll boolean indirect,
            @ForAll boolean eventIdx,
            @ForAll boolean inOrder,
            @ForAll @IntRange(min = 1, max = 6) int sizeExponent,
            @ForAll @IntRange(min = 0, max = 3) int restarts,
            @ForAll long seed) throws Exception {
        Random random = new Random(seed);
        int size = packed ? (1 << sizeExponent) - random.nextInt(1 << (sizeExponent - 1)) : 1 << sizeExponent;
        long features = (indirect ? VirtioFeature.bit(VirtioFeature.RING_INDIRECT_DESC) : 0)
                | (packed ? VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_PACKED) : 0)
                | (eventIdx ? VirtioFeature.bit(VirtioFeature.RING_EVENT_IDX) : 0)
                | (inOrder ? VirtioFeature.bit(VirtioFeature.IN_ORDER) : 0);
        TestMemory memory = new TestMemory(1 << 20);
        QueueConfig config = RingPlacement.place(memory, size);
        long indirectArea = RingPlacement.indirectArea(memory, size, MAX_INDIRECT);
        DriverQueue driver = Vrings.driver(config, features, memory.map(), indirectArea, MAX_INDIRECT);
        DeviceVring device = Vrings.device(config, features, memory.map());
        InFlightLog log = new InFlightLog(memory, config, packed);

        // the driver fills the ring with random shapes; token = index in this list = fresh pop order
        List<Popped> added = new ArrayList<>();
        ScatterGatherList sg = new ScatterGatherList(MAX_INDIRECT);
        while (true) {
            boolean asIndirect = indirect && random.nextBoolean();
            int count = 1 + random.nextInt(Math.min(asIndirect ? MAX_INDIRECT : size, 6));
            int readable = random.nextInt(count + 1);
            int writable = count - readable;
            sg.clear();
            long[] addresses = new long[readable + writable];
            int[] lengths = new int[addresses.length];
            for (int i = 0; i < addresses.length; i++) {
                lengths[i] = 1 + random.nextInt(64);
                addresses[i] = memory.allocate(lengths[i], 8);
                if (i < readable) {
                    sg.addReadable(addresses[i], lengths[i]);
                } else {
                    sg.addWritable(addresses[i], lengths[i]);
                }
            }
            if (!driver.add(sg, added.size(), asIndirect)) {
                break;
            }
            added.add(new Popped(added.size(), 0, 0, 0, null, addresses, lengths, readable));
        }
        driver.kick();

        Map<Integer, Integer> usedLength = new HashMap<>();
        boolean[] seen = new boolean[added.size()];
        int nextFresh = 0;
        int waiting = 0;
        DescriptorChain chain = device.newChain();
        for (int life = 0; life <= restarts; life++) {
            boolean last = life == restarts;
            // pop: resubmitted chains first, without moving avail; then fresh ones
            List<Popped> inFlight = log.inFlight();
            int available = waiting + added.size() - nextFresh;
            int pops = last ? available : random.nextInt(available + 1);
            List<Popped> held = new ArrayList<>();
            for (int k = 0; k < pops; k++) {
                int position = device.availPosition();
                assertThat(device.pop(chain)).as("pop %d of %d", k, pops).isTrue();
                Popped p;
                if (k < waiting) {
                    assertThat(device.availPosition()).isEqualTo(position);
                    p = inFlight.get(inFlight.size() - waiting + k);
                } else {
                    Popped fresh = added.get(nextFresh++);
                    assertThat(chain.count()).isEqualTo(fresh.addresses().length);
                    p = log.popped(fresh.token(), chain, position);
                }
                p.assertSameAs(chain);
                for (int i = 0; i < chain.count(); i++) {
                    assertThat(chain.isWritable(i)).isEqualTo(i >= added.get(p.token()).readable());
                    assertThat(chain.address(i)).isEqualTo(added.get(p.token()).addresses()[i]);
                }
                held.add(p);
            }
            if (last) {
                assertThat(device.pop(chain)).isFalse();
            }
            // complete some (all in the last life) in random order
            Collections.shuffle(held, random);
            int completions = last ? held.size() : random.nextInt(held.size() + 1);
            for (Popped p : held.subList(0, completions)) {
                int length = random.nextInt(1 + (int) writableBytes(added.get(p.token())));
                usedLength.put(p.token(), length);
                device.addUsed(p.head(), p.ringSlots(), length);
            }
            device.publishUsed();
            int token;
            while ((token = driver.pollUsed()) != DriverQueue.NO_TOKEN) {
                assertThat(seen[token]).as("token %d came back twice", token).isFalse();
                seen[token] = true;
                assertThat(driver.lastUsedLength()).isEqualTo(usedLength.get(token));
                log.usedSeen(token);
            }
            assertThat(device.error()).isEqualTo(QueueError.NONE);
            assertThat(driver.error()).isEqualTo(QueueError.NONE);
            if (!last) {
                // crash: a new device past the in-flight chains, which are resubmitted in pop order
                int used = device.usedPosition();
                DeviceVring next = Vrings.device(config, features, memory.map(), log.restartAvail(used), used);
                assertThat(next.availPosition()).isEqualTo(device.availPosition());
                device = next;
                inFlight = log.inFlight();
                for (Popped p : inFlight) {
                    assertThat(packed ? device.resubmitPacked(p.descriptors(), p.ringSlots())
                            : device.resubmitSplit(p.head())).isTrue();
                }
                waiting = inFlight.size();
                assertThat(device.hasAvailable()).isEqualTo(waiting + added.size() - nextFresh > 0);
            }
        }
        for (int t = 0; t < seen.length; t++) {
            assertThat(seen[t]).as("token %d used", t).isTrue();
        }
        assertThat(driver.inFlight()).isZero();
        assertThat(driver.freeDescriptors()).isEqualTo(size);
        assertThat(device.inFlight()).isZero();
        assertThat(memory.guardsIntact()).isTrue();
    }

    private static long writableBytes(Popped p) {
        long bytes = 0;
        for (int i = p.readable(); i < p.lengths().length; i++) {
            bytes += p.lengths()[i];
        }
        return bytes;
    }
}
