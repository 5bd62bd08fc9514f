package org.jvirtio.transport.mmio.component;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.device.blk.BlockDevice;
import org.jvirtio.device.blk.BlockDeviceOptions;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.transport.mmio.proxy.VirtioMmioSlot;
import org.jvirtio.transport.pci.proxy.QemuSlots;

/**
 * How windows make up a slot and how the slot joins and leaves its QEMU's group. The group is a
 * recording {@link QemuSlots} (the pci bundle's real one is private to it and needs a QEMU; the whole
 * route with a real QEMU and guest is ContainerMmioGuestIT): what it records is what the slot asked.
 */
class SharedSlotTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    /** The group side: which slots joined, how often one asked to be attached, which left. */
    private static final class RecordingGroups implements QemuSlots {
        final List<Slot> joined = new ArrayList<>();
        final List<Slot> left = new ArrayList<>();
        String refuse;

        @Override
        public Membership join(Slot slot, Path qmp, Path qtest, long settleMillis, Duration timeout) {
            if (refuse != null) {
                throw new IllegalArgumentException(refuse);
            }
            joined.add(slot);
            return new Membership() {
                @Override
                public void attach() {
                }

                @Override
                public void leave() {
                    left.add(slot);
                }
            };
        }
    }

    private static VirtioDevice blk() {
        return new BlockDevice(new MemoryBackend(ByteBuffer.allocateDirect(1 << 16), false, 512),
                BlockDeviceOptions.builder().queueSize(16).serial("t").build());
    }

    @Test
    void windowsOfOneSlotShareOneMemberThatWantsAttachOnlyWhenComplete() {
        RecordingGroups groups = new RecordingGroups();
        MmioSlots slots = new MmioSlots(groups);
        try {
            MmioTransport.Window w0 = new MmioTransport.Window("blk0", 0);
            MmioTransport.Window w2 = new MmioTransport.Window("con0", 2);
            SharedSlot s = slots.join(w0, Path.of("/run/q.qmp"), null, 5, 0, TIMEOUT);
            assertThat(slots.join(w2, Path.of("/run/./q.qmp"), null, 5, 0, TIMEOUT)).isSameAs(s);
            assertThat(groups.joined).containsExactly(s);
            assertThat(s.id()).isEqualTo("jvirtio-mmio-slot5");
            assertThat(s.slot()).isEqualTo(5);

            w0.offer(blk());
            w2.offer(blk());
            assertThat(s.wantsAttach()).as("window 1 missing").isFalse();
            assertThat(s.gap()).isEqualTo(1);

            MmioTransport.Window w1 = new MmioTransport.Window("net0", 1);
            slots.join(w1, Path.of("/run/q.qmp"), null, 5, 0, TIMEOUT);
            assertThat(s.gap()).isEqualTo(-1);
            assertThat(s.wantsAttach()).as("window 1 has no device").isFalse();
            w1.offer(blk());
            assertThat(s.wantsAttach()).isTrue();

            VirtioMmioSlot built = (VirtioMmioSlot) s.factory();
            assertThat(built.windowCount()).isEqualTo(3);
            assertThat(built.toString()).contains("blk0+net0+con0"); // window order, not join order
            s.failed("QEMU said no");
            assertThat(s.settled()).isTrue();
            assertThat(s.attachedOk()).isFalse();
            assertThat(s.wantsAttach()).isFalse();
            assertThat(s.state(w0)).isEqualTo("failed");
        } finally {
            slots.deactivate();
        }
    }

    @Test
    void aWindowTakenTwiceIsRefusedAndTheSlotLeavesWithItsLastWindow() {
        RecordingGroups groups = new RecordingGroups();
        MmioSlots slots = new MmioSlots(groups);
        try {
            MmioTransport.Window a = new MmioTransport.Window("a", 0);
            MmioTransport.Window b = new MmioTransport.Window("b", 0);
            MmioTransport.Window c = new MmioTransport.Window("c", 1);
            SharedSlot s = slots.join(a, Path.of("q"), null, 3, 0, TIMEOUT);
            assertThatThrownBy(() -> slots.join(b, Path.of("q"), null, 3, 0, TIMEOUT))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("window 0 of slot 3 is already device a's");
            slots.join(c, Path.of("q"), null, 3, 0, TIMEOUT);
            assertThat(s.state(a)).isEqualTo("waiting");
            slots.leave(s, a);
            assertThat(groups.left).isEmpty();
            slots.leave(s, c);
            assertThat(groups.left).containsExactly(s);
            // the slot is gone: a window joining again makes a new one, which joins the group again
            SharedSlot again = slots.join(a, Path.of("q"), null, 3, 0, TIMEOUT);
            assertThat(again).isNotSameAs(s);
            assertThat(groups.joined).containsExactly(s, again);
        } finally {
            slots.deactivate();
        }
    }

    @Test
    void aSlotTheGroupRefusesKeepsNothing() {
        RecordingGroups groups = new RecordingGroups();
        MmioSlots slots = new MmioSlots(groups);
        try {
            groups.refuse = "slot 4 is already device net0's on QMP socket q";
            MmioTransport.Window w = new MmioTransport.Window("blk0", 0);
            assertThatThrownBy(() -> slots.join(w, Path.of("q"), null, 4, 0, TIMEOUT))
                    .hasMessage("slot 4 is already device net0's on QMP socket q");
            groups.refuse = null;
            SharedSlot s = slots.join(w, Path.of("q"), null, 4, 0, TIMEOUT);
            assertThat(groups.joined).containsExactly(s);
        } finally {
            slots.deactivate();
        }
    }

    @Test
    void aWindowsDeviceIsTakenOnceAndLeavesOnlyIfItIsTheOne() {
        MmioTransport.Window w = new MmioTransport.Window("blk0", 0);
        VirtioDevice first = blk();
        VirtioDevice other = blk();
        assertThat(w.offer(first)).isTrue();
        assertThat(w.offer(other)).as("not the first device").isFalse();
        assertThat(w.withdraw(first)).as("replaced before the slot was built").isFalse();
        assertThat(w.withdraw(other)).isTrue();
        assertThat(w.device()).isNull();
        assertThat(w.transport()).isNull();
    }
}
