package org.jvirtio.device.blk;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.jvirtio.device.blk.request.RequestError;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A read-only device reads, and refuses everything that would change the disk. */
class ReadOnlyTest {

    private static ByteBuffer disk() {
        ByteBuffer disk = ByteBuffer.allocate((int) Backends.SIZE);
        for (int i = 0; i < 4096; i++) {
            disk.put(i, (byte) 0x42);
        }
        return disk;
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void readOnlyBackendRefusesWrites(boolean packed) throws Exception {
        ByteBuffer disk = disk();
        BlkRig bench = new BlkRig(new MemoryBackend(disk, true, 512), BlkRig.options().build(), packed);
        assertRefusesWrites(bench, disk);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void readOnlyOptionOverAWritableBackend(boolean packed) throws Exception {
        ByteBuffer disk = disk();
        BlkRig bench = new BlkRig(new MemoryBackend(disk, false, 512), BlkRig.options().readOnly(true).build(),
                packed);
        assertRefusesWrites(bench, disk);
    }

    private static void assertRefusesWrites(BlkRig bench, ByteBuffer disk) {
        long offered = bench.device.offeredFeatures();
        assertThat(VirtioFeature.has(offered, BlockFeatures.RO)).isTrue();
        assertThat(VirtioFeature.has(offered, BlockFeatures.DISCARD)).isFalse();
        assertThat(VirtioFeature.has(offered, BlockFeatures.WRITE_ZEROES)).isFalse();

        BlkRig.Completion w = bench.write(0, 0, new byte[1024]);
        assertThat(w.status()).isEqualTo(BlockProtocol.S_IOERR);
        assertThat(w.usedLength()).isEqualTo(1);
        assertThat(bench.device.metrics(0).errors(RequestError.READ_ONLY)).isEqualTo(1);
        // not offered, so not negotiated: unsupported rather than read-only
        assertThat(bench.segmentRequest(0, BlockProtocol.T_DISCARD, new long[][] {{0, 1, 0}}).status())
                .isEqualTo(BlockProtocol.S_UNSUPP);
        assertThat(bench.segmentRequest(0, BlockProtocol.T_WRITE_ZEROES, new long[][] {{0, 1, 0}}).status())
                .isEqualTo(BlockProtocol.S_UNSUPP);
        assertThat(bench.device.metrics(0).errors(RequestError.UNSUPPORTED_TYPE)).isEqualTo(2);

        byte[] expected = new byte[1024];
        Arrays.fill(expected, (byte) 0x42);
        byte[] back = new byte[1024];
        assertThat(bench.read(0, 0, 1024, back).status()).isEqualTo(BlockProtocol.S_OK);
        assertThat(back).isEqualTo(expected);
        assertThat(disk.get(0)).isEqualTo((byte) 0x42);
        assertThat(bench.headerOnly(0, BlockProtocol.T_FLUSH, 0).status()).isEqualTo(BlockProtocol.S_OK);
        assertThat(bench.notifier.resets).isEmpty();
    }
}
