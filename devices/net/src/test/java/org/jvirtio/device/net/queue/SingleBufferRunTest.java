package org.jvirtio.device.net.queue;

import static org.assertj.core.api.Assertions.assertThat;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.vring.testkit.TestMemory;
import org.junit.jupiter.api.Test;

/**
 * A run keeps one guest memory for all its chains. A chain popped in another memory map (a memory
 * table changed between two pops) cannot join it: no transport stages that, since it changes the map
 * only under the serve lock that a run is popped under, so the chains here are plain values.
 */
class SingleBufferRunTest {

    /** A popped single-descriptor chain: what a run reads of one. */
    private record Chain(int head, long buffer, GuestMemory memory) implements DescriptorChain {
        @Override
        public int ringSlots() {
            return 1;
        }

        @Override
        public int count() {
            return 1;
        }

        @Override
        public int readableCount() {
            return 0;
        }

        @Override
        public long address(int i) {
            return buffer;
        }

        @Override
        public int length(int i) {
            return 2048;
        }

        @Override
        public long readableBytes() {
            return 0;
        }

        @Override
        public long writableBytes() {
            return 2048;
        }
    }

    @Test
    void aChainInAnotherMemoryDoesNotJoinTheRun() {
        GuestMemory before = new TestMemory(1 << 16).map();
        GuestMemory after = new TestMemory(1 << 16).map();
        SingleBufferRun run = new SingleBufferRun();

        assertThat(run.add(new Chain(3, 0x1000, before))).isTrue();
        assertThat(run.add(new Chain(4, 0x2000, before))).isTrue();
        assertThat(run.add(new Chain(5, 0x3000, after))).as("another memory map").isFalse();

        assertThat(run.size).isEqualTo(2);
        assertThat(run.memory).isSameAs(before);
        assertThat(run.head).startsWith(3, 4);
        assertThat(run.address).startsWith(0x1000L, 0x2000L);

        run.clear();
        assertThat(run.memory).as("an old map is not kept alive").isNull();
        assertThat(run.add(new Chain(5, 0x3000, after))).as("the next run starts in the new map").isTrue();
        assertThat(run.memory).isSameAs(after);
        assertThat(run.size).isEqualTo(1);
    }
}
