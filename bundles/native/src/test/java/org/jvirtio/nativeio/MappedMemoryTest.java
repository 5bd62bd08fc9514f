package org.jvirtio.nativeio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;

import org.junit.jupiter.api.Test;

class MappedMemoryTest {

    private static final long PAGE = MappedMemory.pageSize();

    @Test
    void memfdHasTheRequestedSize() throws Exception {
        try (NativeFd fd = Memfd.create("size", 3 * PAGE)) {
            assertThat(ProcSelf.fileSize(fd)).isEqualTo(3 * PAGE);
            assertThat(ProcSelf.target(fd)).contains("memfd:size");
        }
    }

    @Test
    void aWriteThroughOneMappingIsSeenThroughTheOther() throws Exception {
        try (NativeFd fd = Memfd.create("twice", 2 * PAGE);
             MappedMemory a = MappedMemory.map(fd, 0, 2 * PAGE, true);
             MappedMemory b = MappedMemory.map(fd, 0, 2 * PAGE, true)) {
            a.slice(PAGE + 8, 8).putLong(0, 0x1122_3344_5566_7788L);
            assertThat(b.slice(PAGE + 8, 8).getLong(0)).isEqualTo(0x1122_3344_5566_7788L);

            b.slice(0, 4).put(0, new byte[] {1, 2, 3, 4});
            byte[] seen = new byte[4];
            a.slice(0, 4).get(0, seen);
            assertThat(seen).containsExactly(1, 2, 3, 4);
        }
    }

    @Test
    void aMappingAtAFileOffsetSeesThatPartOfTheFile() throws Exception {
        try (NativeFd fd = Memfd.create("offset", 2 * PAGE);
             MappedMemory whole = MappedMemory.map(fd, 0, 2 * PAGE, true);
             MappedMemory second = MappedMemory.map(fd, PAGE, PAGE, true)) {
            whole.slice(PAGE + 5, 1).put(0, (byte) 42);
            assertThat(second.slice(5, 1).get(0)).isEqualTo((byte) 42);
            assertThat(second.size()).isEqualTo(PAGE);
        }
    }

    @Test
    void theMappingSurvivesClosingTheFd() throws Exception {
        NativeFd fd = Memfd.create("survivor", PAGE);
        try (MappedMemory memory = MappedMemory.map(fd, 0, PAGE, true)) {
            fd.close();
            memory.slice(100, 8).putLong(0, 77L);
            assertThat(memory.slice(100, 8).getLong(0)).isEqualTo(77L);
        }
    }

    @Test
    void sliceOutsideTheMappingThrows() throws Exception {
        try (MappedMemory memory = MappedMemory.anonymous(PAGE)) {
            assertThat(memory.slice(PAGE - 8, 8).capacity()).isEqualTo(8);
            assertThat(memory.slice(PAGE, 0).capacity()).isZero();
            assertThatThrownBy(() -> memory.slice(PAGE - 4, 8)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> memory.slice(-1, 4)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> memory.slice(0, -1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> memory.slice(Long.MAX_VALUE, 1)).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    @Test
    void slicesAreDirectViewsOfTheRange() throws Exception {
        try (MappedMemory memory = MappedMemory.anonymous(PAGE)) {
            ByteBuffer view = memory.slice(16, 32);
            assertThat(view.isDirect()).isTrue();
            assertThat(view.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
            assertThat(view.position()).isZero();
            assertThat(view.limit()).isEqualTo(32);
            view.put(0, (byte) 9);
            assertThat(memory.slice(16, 1).get(0)).isEqualTo((byte) 9);
        }
    }

    @Test
    void closingTwiceIsANoOpAndUseAfterCloseFails() throws Exception {
        MappedMemory memory = MappedMemory.anonymous(PAGE);
        memory.close();
        memory.close();
        assertThat(memory.isOpen()).isFalse();
        assertThatThrownBy(() -> memory.slice(0, 8)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> memory.madvise(0, PAGE, Advice.DONTNEED)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aReadOnlyMappingGivesReadOnlyViews() throws Exception {
        try (NativeFd fd = Memfd.create("ro", PAGE);
             MappedMemory writer = MappedMemory.map(fd, 0, PAGE, true);
             MappedMemory reader = MappedMemory.map(fd, 0, PAGE, false)) {
            writer.slice(0, 8).putLong(0, 5L);
            ByteBuffer view = reader.slice(0, 8);
            assertThat(view.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
            assertThat(view.isReadOnly()).isTrue();
            assertThat(view.getLong(0)).isEqualTo(5L);
            assertThatThrownBy(() -> view.putLong(0, 6L)).isInstanceOf(ReadOnlyBufferException.class);
            assertThat(reader.isWritable()).isFalse();
        }
    }

    @Test
    void dontneedOnASharedMemfdMappingKeepsTheContents() throws Exception {
        try (NativeFd fd = Memfd.create("dontneed", 2 * PAGE);
             MappedMemory memory = MappedMemory.map(fd, 0, 2 * PAGE, true)) {
            memory.slice(PAGE, 8).putLong(0, 123L);
            memory.madvise(0, 2 * PAGE, Advice.DONTNEED);
            // The pages live in the memfd, not in this mapping: they fault back in with their data.
            assertThat(memory.slice(PAGE, 8).getLong(0)).isEqualTo(123L);
        }
    }

    @Test
    void removePunchesAHoleThatReadsBackAsZeroInEveryMapping() throws Exception {
        try (NativeFd fd = Memfd.create("remove", 3 * PAGE);
             MappedMemory a = MappedMemory.map(fd, 0, 3 * PAGE, true);
             MappedMemory b = MappedMemory.map(fd, 0, 3 * PAGE, true)) {
            for (int page = 0; page < 3; page++) {
                a.slice(page * PAGE, 8).putLong(0, 0xABCDL + page);
            }
            a.madvise(PAGE, PAGE, Advice.REMOVE);

            assertThat(b.slice(0, 8).getLong(0)).isEqualTo(0xABCDL);
            byte[] removed = new byte[(int) PAGE];
            b.slice(PAGE, (int) PAGE).get(0, removed);
            assertThat(removed).containsOnly(0);
            assertThat(b.slice(2 * PAGE, 8).getLong(0)).isEqualTo(0xABCDL + 2);
        }
    }

    @Test
    void discardReleasesTheWholePagesOfTheRangeFromTheMemfd() throws Exception {
        try (NativeFd fd = Memfd.create("discard", 8 * PAGE);
             MappedMemory memory = MappedMemory.map(fd, 0, 8 * PAGE, true)) {
            for (int page = 0; page < 8; page++) {
                memory.slice(page * PAGE, 8).putLong(0, 0x77L + page);
            }
            long before = ProcSelf.allocatedBytes(fd);
            assertThat(before).isGreaterThanOrEqualTo(8 * PAGE);

            // pages 2..4 whole; the partial page before and after stays
            assertThat(memory.discard(PAGE + PAGE / 2, 4 * PAGE)).isEqualTo(3 * PAGE);

            assertThat(ProcSelf.allocatedBytes(fd)).isEqualTo(before - 3 * PAGE);
            assertThat(memory.slice(PAGE, 8).getLong(0)).isEqualTo(0x78L);
            assertThat(memory.slice(2 * PAGE, 8).getLong(0)).isZero();
            assertThat(memory.slice(4 * PAGE, 8).getLong(0)).isZero();
            assertThat(memory.slice(5 * PAGE, 8).getLong(0)).isEqualTo(0x7CL);
            assertThat(memory.discard(PAGE / 2, PAGE)).as("no whole page").isZero();
            assertThatThrownBy(() -> memory.discard(7 * PAGE, 2 * PAGE)).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    @Test
    void aReadOnlyMappingDiscardsNothing() throws Exception {
        try (NativeFd fd = Memfd.create("ro-discard", PAGE);
             MappedMemory writer = MappedMemory.map(fd, 0, PAGE, true);
             MappedMemory reader = MappedMemory.map(fd, 0, PAGE, false)) {
            writer.slice(0, 8).putLong(0, 9L);
            assertThat(reader.discard(0, PAGE)).isZero();
            assertThat(writer.slice(0, 8).getLong(0)).isEqualTo(9L);
        }
    }

    @Test
    void removeZeroesAnonymousSharedMemory() throws Exception {
        try (MappedMemory memory = MappedMemory.anonymous(PAGE)) {
            memory.slice(0, 8).putLong(0, -1L);
            memory.madvise(0, PAGE, Advice.REMOVE);
            assertThat(memory.slice(0, 8).getLong(0)).isZero();
        }
    }

    @Test
    void madviseChecksTheRangeAndTheKernelChecksAlignment() throws Exception {
        try (MappedMemory memory = MappedMemory.anonymous(2 * PAGE)) {
            assertThatThrownBy(() -> memory.madvise(PAGE, 2 * PAGE, Advice.DONTNEED))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> memory.madvise(1, PAGE, Advice.DONTNEED))
                    .isInstanceOfSatisfying(NativeException.class, e -> {
                        assertThat(e.call()).isEqualTo("madvise");
                        assertThat(e.errnoName()).isEqualTo("EINVAL");
                        assertThat(e.getMessage()).startsWith("madvise(").endsWith("EINVAL (Invalid argument)");
                    });
            memory.madvise(0, 2 * PAGE, Advice.WILLNEED);
        }
    }

    @Test
    void sizesMustBePositive() {
        assertThatThrownBy(() -> MappedMemory.anonymous(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Memfd.create("neg", -1)).isInstanceOf(IllegalArgumentException.class);
    }
}
