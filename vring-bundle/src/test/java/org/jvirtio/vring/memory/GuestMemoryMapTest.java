package org.jvirtio.vring.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.nativeio.Memfd;
import org.jvirtio.nativeio.NativeFd;
import org.junit.jupiter.api.Test;

class GuestMemoryMapTest {
    private static final long A = 0x10000;
    private static final long B = A + 4096;
    private static final long FAR = 0x100000;

    /** Regions A and B are adjacent; FAR is alone, after a hole. */
    private final BufferBacking backingA = BufferBacking.allocateDirect(4096);
    private final BufferBacking backingB = BufferBacking.allocateDirect(4096);
    private final GuestMemoryMap map = GuestMemoryMap.of(
            new GuestRegion(FAR, BufferBacking.allocateDirect(4096)),
            new GuestRegion(B, backingB),
            new GuestRegion(A, backingA));

    @Test
    void containsChecksEveryByteAndNeverOverflows() {
        assertThat(map.contains(A, 4096)).isTrue();
        assertThat(map.contains(A, 8192)).as("adjacent regions join").isTrue();
        assertThat(map.contains(A + 4000, 200)).isTrue();
        assertThat(map.contains(A, 8193)).as("one byte into the hole").isFalse();
        assertThat(map.contains(A - 1, 2)).isFalse();
        assertThat(map.contains(B + 4096, 1)).isFalse();
        assertThat(map.contains(FAR, 4096)).isTrue();
        assertThat(map.contains(FAR + 4095, 2)).isFalse();
        assertThat(map.contains(Long.MAX_VALUE, 2)).isFalse();
        assertThat(map.contains(-16, 32)).isFalse();
        assertThat(map.contains(A, -1)).isFalse();
        assertThat(map.contains(A, Long.MAX_VALUE)).isFalse();
        assertThat(map.contains(0, 0)).as("zero bytes touch nothing").isTrue();
    }

    @Test
    void scalarAccessesAreLittleEndianAndMayStraddleAdjacentRegions() {
        map.putLong(B - 4, 0x1122_3344_5566_7788L);
        assertThat(map.getLong(B - 4)).isEqualTo(0x1122_3344_5566_7788L);
        assertThat(map.getInt(B - 4)).isEqualTo(0x5566_7788);
        assertThat(map.getInt(B)).isEqualTo(0x1122_3344);
        assertThat(backingA.slice(4092, 4).order(ByteOrder.LITTLE_ENDIAN).getInt(0)).isEqualTo(0x5566_7788);
        map.putShort(B - 1, (short) 0xABCD);
        assertThat(map.getShort(B - 1)).isEqualTo((short) 0xABCD);
        assertThat(map.getByte(B - 1)).isEqualTo((byte) 0xCD);
    }

    /**
     * Array copies inside the first region take the fast path (no buffer wrapped): the bytes land at the
     * right place, only the given slice of the array moves, and a range that leaves the first region
     * or guest memory still goes the checked way.
     */
    @Test
    void arrayCopiesInsideTheFirstRegionMoveExactlyTheSlice() {
        byte[] source = {1, 2, 3, 4, 5, 6, 7, 8};
        map.write(A + 10, source, 2, 4);
        assertThat(map.getInt(A + 10)).isEqualTo(0x0605_0403);
        assertThat(map.getByte(A + 9)).isZero();
        assertThat(map.getByte(A + 14)).isZero();
        byte[] back = new byte[8];
        map.read(A + 10, back, 3, 4);
        assertThat(back).containsExactly(0, 0, 0, 3, 4, 5, 6, 0);

        map.write(A + 4094, source, 0, 4); // into region B: the checked way
        assertThat(map.getInt(A + 4094)).isEqualTo(0x0403_0201);
        assertThatThrownBy(() -> map.write(A - 2, source, 0, 4)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> map.read(B + 4094, back, 0, 4)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> map.write(A, source, 6, 4)).as("past the array's end")
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> map.write(A, source, 0, -1)).isInstanceOf(RuntimeException.class);
        assertThat(map.getInt(A)).as("nothing copied by a refused call").isZero();
    }

    @Test
    void bulkCopiesCrossRegionsAndFailWholeWhenAnyByteIsUnmapped() {
        byte[] data = new byte[300];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        map.write(B - 100, data, 0, data.length);
        byte[] back = new byte[300];
        map.read(B - 100, back, 0, back.length);
        assertThat(back).isEqualTo(data);

        ByteBuffer before = ByteBuffer.allocate(16);
        map.read(B + 4096 - 16, before);
        assertThatThrownBy(() -> map.write(B + 4096 - 8, new byte[16], 0, 16))
                .isInstanceOf(GuestMemoryException.class);
        ByteBuffer after = ByteBuffer.allocate(16);
        map.read(B + 4096 - 16, after);
        assertThat(after.flip()).as("a failed write copies nothing").isEqualTo(before.flip());
    }

    @Test
    void viewsAreExactAndNeverSpanTwoRegions() {
        ByteBuffer view = map.view(A + 8, 16);
        assertThat(view.capacity()).isEqualTo(16);
        assertThat(view.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
        view.putInt(0, 42);
        assertThat(map.getInt(A + 8)).isEqualTo(42);
        assertThatThrownBy(() -> map.view(B - 8, 16)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> map.view(FAR - 8, 16)).isInstanceOf(GuestMemoryException.class);
    }

    @Test
    void outOfRangeScalarAccessesThrow() {
        assertThatThrownBy(() -> map.getByte(A - 1)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> map.getLong(FAR + 4090)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> map.putInt(B + 4094, 1)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> map.getShort(-2)).isInstanceOf(GuestMemoryException.class);
    }

    @Test
    void atomicAccessesNeedAlignmentAndOneView() {
        map.putShortRelease(A + 2, (short) 7);
        assertThat(map.getShortAcquire(A + 2)).isEqualTo((short) 7);
        assertThatThrownBy(() -> map.getShortAcquire(A + 1)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> map.putShortRelease(FAR + 4096, (short) 1)).isInstanceOf(GuestMemoryException.class);
    }

    @Test
    void overlappingRegionsAreRejected() {
        assertThatThrownBy(() -> GuestMemoryMap.of(new GuestRegion(A, backingA), new GuestRegion(A + 4095, backingB)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("overlap");
    }

    @Test
    void regionsMustFitTheirBackingAndTheAddressSpace() {
        assertThatThrownBy(() -> new GuestRegion(A, 8192, backingA, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GuestRegion(A, 4096, backingA, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GuestRegion(Long.MAX_VALUE - 10, backingA)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GuestRegion(-4096, backingA)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void swappableMemoryReadsTheMapInForce() {
        SwappableGuestMemory memory = new SwappableGuestMemory(GuestMemoryMap.EMPTY);
        assertThat(memory.contains(A, 1)).isFalse();
        assertThat(memory.replace(map)).isSameAs(GuestMemoryMap.EMPTY);
        memory.putInt(A, 5);
        assertThat(map.getInt(A)).isEqualTo(5);
        assertThat(memory.snapshot()).isSameAs(map);
        memory.replace(GuestMemoryMap.EMPTY);
        assertThatThrownBy(() -> memory.getInt(A)).isInstanceOf(GuestMemoryException.class);
    }

    @Test
    void sizeIsTheSumOfTheRegions() {
        assertThat(map.size()).isEqualTo(3 * 4096);
        assertThat(GuestMemoryMap.EMPTY.size()).isZero();
        assertThat(new SwappableGuestMemory(map).size()).isEqualTo(3 * 4096);
    }

    @Test
    void discardTakesWholePagesInsideOneRegionOnly() {
        assertThatThrownBy(() -> map.discard(A + 1, 4096)).isInstanceOf(GuestMemoryException.class)
                .hasMessageContaining("whole 4 KiB pages");
        assertThatThrownBy(() -> map.discard(A, 100)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> map.discard(A, 0)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> map.discard(A, 8192)).isInstanceOf(GuestMemoryException.class)
                .hasMessageContaining("spans two regions");
        assertThatThrownBy(() -> map.discard(FAR + 4096, 4096)).isInstanceOf(GuestMemoryException.class)
                .hasMessageContaining("not in guest memory");
        assertThatThrownBy(() -> map.discard(-4096, 4096)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> map.discard(Long.MAX_VALUE & -4096, 4096)).isInstanceOf(GuestMemoryException.class);
    }

    @Test
    void aBufferBackingReleasesNothingAndKeepsTheContents() {
        map.putLong(A, 42L);
        assertThat(map.discard(A, 4096)).isZero();
        assertThat(map.getLong(A)).isEqualTo(42L);
    }

    @Test
    void aMemfdBackingReleasesThePagesWhichThenReadAsZeros() throws Exception {
        long page = 4096;
        try (NativeFd fd = Memfd.create("map-discard", 4 * page);
             MappedMemory backing = MappedMemory.map(fd, 0, 4 * page, true)) {
            // the region starts one page into the backing: discard must translate guest to backing offsets
            GuestMemoryMap memfdMap = GuestMemoryMap.of(new GuestRegion(FAR, 3 * page, backing, page));
            SwappableGuestMemory swappable = new SwappableGuestMemory(memfdMap);
            for (int i = 0; i < 4; i++) {
                backing.slice(i * page, 8).putLong(0, 100 + i);
            }
            assertThat(swappable.discard(FAR + page, page)).isEqualTo(page);
            assertThat(memfdMap.getLong(FAR)).isEqualTo(101);
            assertThat(memfdMap.getLong(FAR + page)).isZero();
            assertThat(backing.slice(2 * page, 8).getLong(0)).as("the same page through the backing").isZero();
            assertThat(memfdMap.getLong(FAR + 2 * page)).isEqualTo(103);
            assertThat(backing.slice(0, 8).getLong(0)).as("outside the region, untouched").isEqualTo(100);
        }
    }
}
