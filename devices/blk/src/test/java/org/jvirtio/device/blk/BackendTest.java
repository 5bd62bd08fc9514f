package org.jvirtio.device.blk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import org.jvirtio.device.blk.backend.file.FileBackend;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.device.blk.backend.nulldisk.NullBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backends on their own, without a device. */
class BackendTest {
    @TempDir
    Path dir;

    @Test
    void fileBackendCreatesASparseImageOfTheRequestedSize() throws Exception {
        Path image = dir.resolve("new.img");
        try (FileBackend backend = FileBackend.create(image, 64L << 20)) {
            assertThat(backend.size()).isEqualTo(64L << 20);
            assertThat(Files.size(image)).isEqualTo(64L << 20);
            ByteBuffer b = ByteBuffer.allocate(4096);
            backend.read(32L << 20, b);
            assertThat(b.hasRemaining()).isFalse();
            assertThat(b.array()).containsOnly((byte) 0);
        }
        // reopening an existing image with size 0 takes the file's size
        try (FileBackend again = new FileBackend(image, 0, false, false, 4096, false)) {
            assertThat(again.size()).isEqualTo(64L << 20);
            assertThat(again.blockSize()).isEqualTo(4096);
        }
    }

    @Test
    void readOnlyFileBackendRefusesWritesAndMissingBytes() throws Exception {
        Path image = dir.resolve("ro.img");
        Files.write(image, new byte[4096]);
        try (FileBackend ro = new FileBackend(image, 0, false, true, 512, false)) {
            assertThat(ro.isReadOnly()).isTrue();
            assertThatThrownBy(() -> ro.write(0, ByteBuffer.allocate(512))).isInstanceOf(IOException.class);
            ro.flush();
        }
        assertThatThrownBy(() -> new FileBackend(image, 8192, false, true, 512, false)).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> new FileBackend(dir.resolve("missing.img"), 512, false, false, 512, false))
                .isInstanceOf(IOException.class);
        assertThatThrownBy(() -> new FileBackend(image, 0, false, false, 1000, false))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void memoryBackendPositionalAccessLeavesTheDiskBufferAlone() {
        ByteBuffer disk = ByteBuffer.allocateDirect(8192);
        MemoryBackend backend = new MemoryBackend(disk, false, 512);
        ByteBuffer src = ByteBuffer.wrap(new byte[] {1, 2, 3, 4});
        backend.write(100, src);
        assertThat(src.hasRemaining()).isFalse();
        ByteBuffer dst = ByteBuffer.allocate(6);
        dst.position(1);
        backend.read(99, dst);
        assertThat(dst.array()).containsExactly(0, 0, 1, 2, 3, 4);
        backend.writeZeroes(101, 2, false);
        assertThat(disk.get(100)).isEqualTo((byte) 1);
        assertThat(disk.get(101)).isZero();
        assertThat(disk.get(103)).isEqualTo((byte) 4);
        assertThatThrownBy(() -> backend.read(8190, ByteBuffer.allocate(4))).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void nullBackendReadsZeroesAndDropsWrites() {
        NullBackend backend = new NullBackend(1L << 40, false, 512);
        ByteBuffer big = ByteBuffer.allocate(200_000);
        big.put(5, (byte) 9);
        backend.write(0, big.duplicate());
        backend.read(123, big);
        assertThat(big.hasRemaining()).isFalse();
        assertThat(big.get(5)).isZero();
        assertThat(backend.size()).isEqualTo(1L << 40);
    }
}
