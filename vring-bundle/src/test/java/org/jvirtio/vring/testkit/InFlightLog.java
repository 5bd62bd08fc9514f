package org.jvirtio.vring.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.vring.QueueConfig;

/**
 * Plays a transport's record of in-flight chains (vhost-user INFLIGHT_SHMFD) for restart tests: for
 * each chain the device popped, what the device saw, its head or buffer id, its ring slots and, for
 * packed rings, a copy of the ring descriptors it occupied, taken right after the pop (before a used
 * element can overwrite them); and which chains the driver has since seen used.
 */
public final class InFlightLog {
    /** One popped chain, as the device saw it. */
    public record Popped(int token, int position, int head, int ringSlots, ByteBuffer descriptors,
            long[] addresses, int[] lengths, int readable) {

        /** Whether {@code chain} holds the same buffers, in the same order and directions. */
        public void assertSameAs(DescriptorChain chain) {
            assertThat(chain.head()).as("head of token %d", token).isEqualTo(head);
            assertThat(chain.ringSlots()).as("ring slots of token %d", token).isEqualTo(ringSlots);
            assertThat(chain.count()).as("count of token %d", token).isEqualTo(addresses.length);
            assertThat(chain.readableCount()).as("readable of token %d", token).isEqualTo(readable);
            for (int i = 0; i < addresses.length; i++) {
                assertThat(chain.address(i)).isEqualTo(addresses[i]);
                assertThat(chain.length(i)).isEqualTo(lengths[i]);
            }
        }
    }

    private final TestMemory memory;
    private final QueueConfig config;
    private final boolean packed;
    private final List<Popped> popped = new ArrayList<>();
    private final List<Integer> used = new ArrayList<>();

    public InFlightLog(TestMemory memory, QueueConfig config, boolean packed) {
        this.memory = memory;
        this.config = config;
        this.packed = packed;
    }

    /**
     * Records the chain the device just popped for the driver's {@code token}; {@code availBefore} is
     * the device's avail position before that pop (where a packed chain's descriptors start).
     */
    public Popped popped(int token, DescriptorChain chain, int availBefore) {
        long[] addresses = new long[chain.count()];
        int[] lengths = new int[chain.count()];
        for (int i = 0; i < addresses.length; i++) {
            addresses[i] = chain.address(i);
            lengths[i] = chain.length(i);
        }
        ByteBuffer copy = packed ? ringCopy(availBefore & 0x7FFF, chain.ringSlots()) : null;
        Popped p = new Popped(token, availBefore, chain.head(), chain.ringSlots(), copy, addresses, lengths,
                chain.readableCount());
        popped.add(p);
        return p;
    }

    /** The ring descriptors at {@code slots} slots from {@code index}, as the transport would copy them. */
    public ByteBuffer ringCopy(int index, int slots) {
        ByteBuffer copy = ByteBuffer.allocate(16 * slots);
        for (int i = 0; i < slots; i++) {
            copy.put(memory.load(config.descriptorTable() + 16L * ((index + i) % config.size()), 16));
        }
        return copy.flip();
    }

    /** The driver has seen {@code token} used. */
    public void usedSeen(int token) {
        used.add(token);
    }

    /** Chains popped and not yet seen used by the driver, in pop order. */
    public List<Popped> inFlight() {
        List<Popped> out = new ArrayList<>();
        for (Popped p : popped) {
            if (!used.contains(p.token())) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * Where a transport restarts the ring's avail position: past every in-flight chain (split: one
     * index each; packed: their ring slots, the wrap counter flipping at the ring end).
     */
    public int restartAvail(int usedPosition) {
        List<Popped> inFlight = inFlight();
        if (!packed) {
            return (usedPosition + inFlight.size()) & 0xFFFF;
        }
        int index = usedPosition & 0x7FFF;
        boolean wrap = (usedPosition & 0x8000) != 0;
        for (Popped p : inFlight) {
            index += p.ringSlots();
            if (index >= config.size()) {
                index -= config.size();
                wrap = !wrap;
            }
        }
        return index | (wrap ? 0x8000 : 0);
    }
}
