package org.jvirtio.device.blk;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.jvirtio.device.blk.backend.BlockBackend;
import org.jvirtio.device.blk.backend.file.FileBackend;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** DISCARD and WRITE_ZEROES leave the bytes each backend promises. */
class DiscardWriteZeroesTest {
    private static final long[][] TWO_SEGMENTS = {{2, 2, 0}, {6, 1, 0}};
    private static final long[][] TWO_SEGMENTS_UNMAP = {{2, 2, 1}, {6, 1, 0}};

    @TempDir
    Path dir;

    /** Sectors 0..7 full of 0x11, then the request, then the 8 sectors as the backend holds them. */
    private static byte[] afterRequest(BlockBackend backend, boolean packed, int type, long[][] segs) throws Exception {
        BlkRig bench = new BlkRig(backend, BlkRig.options().build(), packed);
        byte[] ones = new byte[8 * 512];
        Arrays.fill(ones, (byte) 0x11);
        assertThat(bench.write(0, 0, ones).status()).isEqualTo(BlockProtocol.S_OK);
        BlkRig.Completion c = bench.segmentRequest(0, type, segs);
        assertThat(c.status()).isEqualTo(BlockProtocol.S_OK);
        assertThat(c.usedLength()).isEqualTo(1);
        assertThat(bench.device.metrics(0).totalErrors()).isZero();
        bench.assertStillWorks(0);
        return Backends.content(backend, 0, 8 * 512);
    }

    /** What sectors 0..7 hold when the segments' sectors are zero and the rest 0x11 (sector 1 rewritten by assertStillWorks). */
    private static byte[] zeroedSegments() {
        byte[] b = new byte[8 * 512];
        Arrays.fill(b, (byte) 0x11);
        Arrays.fill(b, 2 * 512, 4 * 512, (byte) 0);
        Arrays.fill(b, 6 * 512, 7 * 512, (byte) 0);
        Arrays.fill(b, 512, 1024, (byte) 0x3C);
        return b;
    }

    private static byte[] untouched() {
        byte[] b = new byte[8 * 512];
        Arrays.fill(b, (byte) 0x11);
        Arrays.fill(b, 512, 1024, (byte) 0x3C);
        return b;
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void writeZeroesOnMemory(boolean packed) throws Exception {
        MemoryBackend backend = MemoryBackend.of(Backends.SIZE, true);
        assertThat(afterRequest(backend, packed, BlockProtocol.T_WRITE_ZEROES, TWO_SEGMENTS_UNMAP))
                .isEqualTo(zeroedSegments());
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void discardOnMemoryZeroes(boolean packed) throws Exception {
        ByteBuffer disk = ByteBuffer.allocate((int) Backends.SIZE);
        MemoryBackend backend = new MemoryBackend(disk, false, 512);
        assertThat(afterRequest(backend, packed, BlockProtocol.T_DISCARD, TWO_SEGMENTS)).isEqualTo(zeroedSegments());
        assertThat(disk.get(2 * 512)).isZero();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void writeZeroesOnFile(boolean packed) throws Exception {
        Path image = dir.resolve("wz.img");
        try (FileBackend backend = FileBackend.create(image, Backends.SIZE)) {
            afterRequest(backend, packed, BlockProtocol.T_WRITE_ZEROES, TWO_SEGMENTS_UNMAP);
        }
        assertThat(Arrays.copyOf(Files.readAllBytes(image), 8 * 512)).isEqualTo(zeroedSegments());
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void discardOnFileKeepsDataByDefault(boolean packed) throws Exception {
        Path image = dir.resolve("d.img");
        try (FileBackend backend = FileBackend.create(image, Backends.SIZE)) {
            afterRequest(backend, packed, BlockProtocol.T_DISCARD, TWO_SEGMENTS);
        }
        assertThat(Arrays.copyOf(Files.readAllBytes(image), 8 * 512)).isEqualTo(untouched());
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void discardOnFileConfiguredToZero(boolean packed) throws Exception {
        Path image = dir.resolve("dz.img");
        try (FileBackend backend = new FileBackend(image, Backends.SIZE, true, false, 512, true)) {
            afterRequest(backend, packed, BlockProtocol.T_DISCARD, TWO_SEGMENTS);
        }
        assertThat(Arrays.copyOf(Files.readAllBytes(image), 8 * 512)).isEqualTo(zeroedSegments());
    }
}
