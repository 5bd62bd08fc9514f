package org.jvirtio.device.blk;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.device.blk.backend.nulldisk.NullBackend;
import org.junit.jupiter.api.Test;

/** Feature bits and the configuration space, field by field, with each feature on and off. */
class ConfigSpaceTest {

    private static ByteBuffer config(BlockDevice device) {
        byte[] b = new byte[BlockConfigSpace.SIZE + 8];
        device.readConfig(0, b, 0, b.length);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static boolean offers(BlockDevice device, int bit) {
        return VirtioFeature.has(device.offeredFeatures(), bit);
    }

    @Test
    void everyFeatureOnByDefault() {
        BlockDevice device = new BlockDevice(new NullBackend(10L << 30, false, 4096),
                BlockDeviceOptions.builder().queues(4).queueSize(128).sizeMax(65536)
                        .topology(3, 1, 8, 64).discardLimits(1 << 20, 16).writeZeroesLimits(1 << 12, 4, true).build());
        assertThat(device.deviceId()).isEqualTo(VirtioDeviceId.BLOCK);
        assertThat(device.queueCount()).isEqualTo(4);
        assertThat(device.queueMaxSize(3)).isEqualTo(128);
        assertThat(device.configSize()).isEqualTo(BlockConfigSpace.SIZE);
        for (int bit : new int[] {BlockFeatures.SIZE_MAX, BlockFeatures.SEG_MAX, BlockFeatures.BLK_SIZE,
                BlockFeatures.FLUSH, BlockFeatures.TOPOLOGY, BlockFeatures.CONFIG_WCE, BlockFeatures.MQ,
                BlockFeatures.DISCARD, BlockFeatures.WRITE_ZEROES, VirtioFeature.RING_INDIRECT_DESC,
                VirtioFeature.RING_EVENT_IDX, VirtioFeature.VERSION_1, VirtioFeature.RING_PACKED}) {
            assertThat(offers(device, bit)).as("bit %d", bit).isTrue();
        }
        assertThat(offers(device, BlockFeatures.RO)).isFalse();
        assertThat(offers(device, BlockFeatures.GEOMETRY)).isFalse();

        ByteBuffer c = config(device);
        assertThat(c.getLong(BlockConfigSpace.CAPACITY)).isEqualTo((10L << 30) / 512);
        assertThat(c.getInt(BlockConfigSpace.SIZE_MAX)).isEqualTo(65536);
        assertThat(c.getInt(BlockConfigSpace.SEG_MAX)).isEqualTo(126);
        assertThat(c.getInt(BlockConfigSpace.GEOMETRY)).isZero();
        assertThat(c.getInt(BlockConfigSpace.BLK_SIZE)).isEqualTo(4096);
        assertThat(c.get(BlockConfigSpace.PHYSICAL_BLOCK_EXP)).isEqualTo((byte) 3);
        assertThat(c.get(BlockConfigSpace.ALIGNMENT_OFFSET)).isEqualTo((byte) 1);
        assertThat(c.getShort(BlockConfigSpace.MIN_IO_SIZE)).isEqualTo((short) 8);
        assertThat(c.getInt(BlockConfigSpace.OPT_IO_SIZE)).isEqualTo(64);
        assertThat(c.get(BlockConfigSpace.WRITEBACK)).isEqualTo((byte) 1);
        assertThat(c.getShort(BlockConfigSpace.NUM_QUEUES)).isEqualTo((short) 4);
        assertThat(c.getInt(BlockConfigSpace.MAX_DISCARD_SECTORS)).isEqualTo(1 << 20);
        assertThat(c.getInt(BlockConfigSpace.MAX_DISCARD_SEG)).isEqualTo(16);
        assertThat(c.getInt(BlockConfigSpace.DISCARD_SECTOR_ALIGNMENT)).isEqualTo(8);
        assertThat(c.getInt(BlockConfigSpace.MAX_WRITE_ZEROES_SECTORS)).isEqualTo(1 << 12);
        assertThat(c.getInt(BlockConfigSpace.MAX_WRITE_ZEROES_SEG)).isEqualTo(4);
        assertThat(c.get(BlockConfigSpace.WRITE_ZEROES_MAY_UNMAP)).isEqualTo((byte) 1);
        // past the end reads zero
        assertThat(c.getLong(BlockConfigSpace.SIZE)).isZero();
    }

    @Test
    void everyOptionalFeatureOff() {
        BlockDevice device = new BlockDevice(MemoryBackend.of(1 << 20, false),
                BlockDeviceOptions.builder().sizeMax(0).segMax(0).blkSize(false).flush(false).topology(false)
                        .configWce(true).discard(false).writeZeroes(false).packed(false).eventIdx(false)
                        .indirect(false).build());
        // CONFIG_WCE is withheld without FLUSH: nothing would make writeback data stable
        assertThat(device.offeredFeatures()).isEqualTo(VirtioFeature.bit(VirtioFeature.VERSION_1));
        ByteBuffer c = config(device);
        assertThat(c.getLong(BlockConfigSpace.CAPACITY)).isEqualTo(2048);
        for (int at = 8; at < BlockConfigSpace.SIZE; at++) {
            assertThat(c.get(at)).as("byte %d", at).isZero();
        }
    }

    @Test
    void eachFeatureShowsItsField() {
        MemoryBackend backend = MemoryBackend.of(1 << 20, false);
        BlockDeviceOptions.Builder none = BlockDeviceOptions.builder().segMax(0).blkSize(false).flush(false)
                .topology(false).discard(false).writeZeroes(false);
        assertField(new BlockDevice(backend, none.sizeMax(4096).build()), BlockFeatures.SIZE_MAX,
                BlockConfigSpace.SIZE_MAX, 4096);
        assertField(new BlockDevice(backend, none.sizeMax(0).segMax(30).build()), BlockFeatures.SEG_MAX,
                BlockConfigSpace.SEG_MAX, 30);
        assertField(new BlockDevice(backend, none.segMax(0).blkSize(true).build()), BlockFeatures.BLK_SIZE,
                BlockConfigSpace.BLK_SIZE, 512);
        assertField(new BlockDevice(backend, none.blkSize(false).topology(true).topology(0, 0, 1, 0).build()),
                BlockFeatures.TOPOLOGY, BlockConfigSpace.MIN_IO_SIZE, 1);
        assertField(new BlockDevice(backend, none.topology(false).queues(3).build()), BlockFeatures.MQ,
                BlockConfigSpace.NUM_QUEUES, 3);
        assertField(new BlockDevice(backend, none.queues(1).discard(true).discardLimits(77, 5).build()),
                BlockFeatures.DISCARD, BlockConfigSpace.MAX_DISCARD_SECTORS, 77);
        assertField(new BlockDevice(backend, none.discard(false).writeZeroes(true).writeZeroesLimits(99, 2, false)
                .build()), BlockFeatures.WRITE_ZEROES, BlockConfigSpace.MAX_WRITE_ZEROES_SECTORS, 99);
        BlockDevice flush = new BlockDevice(backend, none.writeZeroes(false).flush(true).configWce(false).build());
        assertThat(offers(flush, BlockFeatures.FLUSH)).isTrue();
        assertThat(offers(flush, BlockFeatures.CONFIG_WCE)).isFalse();
        assertThat(config(flush).get(BlockConfigSpace.WRITEBACK)).isEqualTo((byte) 1);
    }

    /** {@code bit} is the only device-specific feature offered, and the field at {@code offset} holds {@code value}. */
    private static void assertField(BlockDevice device, int bit, int offset, int value) {
        long deviceBits = device.offeredFeatures() & 0xFF_FFFFL;
        assertThat(deviceBits).as("device features").isEqualTo(1L << bit);
        ByteBuffer c = config(device);
        int actual = offset == BlockConfigSpace.NUM_QUEUES || offset == BlockConfigSpace.MIN_IO_SIZE
                ? c.getShort(offset) : c.getInt(offset);
        assertThat(actual).isEqualTo(value);
    }

    @Test
    void writebackIsWritableWithConfigWceAndPicksTheCacheMode() throws Exception {
        BlkRig bench = new BlkRig(MemoryBackend.of(1 << 20, true), BlkRig.options().build(), false);
        BlockDevice device = bench.device;
        assertThat(device.isWriteThrough()).isFalse();
        device.writeConfig(BlockConfigSpace.WRITEBACK, new byte[] {0}, 0, 1);
        assertThat(config(device).get(BlockConfigSpace.WRITEBACK)).isZero();
        assertThat(device.isWriteThrough()).isTrue();
        bench.assertStillWorks(0);
        // a wider write covering the field: only the writeback byte changes
        byte[] wide = new byte[BlockConfigSpace.SIZE];
        java.util.Arrays.fill(wide, (byte) 0x7F);
        device.writeConfig(0, wide, 0, wide.length);
        ByteBuffer c = config(device);
        assertThat(c.get(BlockConfigSpace.WRITEBACK)).isEqualTo((byte) 1);
        assertThat(c.getLong(BlockConfigSpace.CAPACITY)).isEqualTo(2048);
        assertThat(device.isWriteThrough()).isFalse();
        // reset restores the initial mode
        device.writeConfig(BlockConfigSpace.WRITEBACK, new byte[] {0}, 0, 1);
        device.reset();
        assertThat(config(device).get(BlockConfigSpace.WRITEBACK)).isEqualTo((byte) 1);
    }

    @Test
    void writebackIsReadOnlyWithoutConfigWce() {
        BlockDevice device = new BlockDevice(MemoryBackend.of(1 << 20, true),
                BlockDeviceOptions.builder().configWce(false).build());
        device.writeConfig(BlockConfigSpace.WRITEBACK, new byte[] {0}, 0, 1);
        assertThat(config(device).get(BlockConfigSpace.WRITEBACK)).isEqualTo((byte) 1);
    }

    @Test
    void configWceWithoutFlushNegotiatedStartsWriteThrough() throws Exception {
        BlkRig bench = new BlkRig(new BlockDevice(MemoryBackend.of(1 << 20, true), BlkRig.options().build()),
                true, 1L << BlockFeatures.FLUSH);
        assertThat(config(bench.device).get(BlockConfigSpace.WRITEBACK)).isZero();
        assertThat(bench.device.isWriteThrough()).isTrue();
    }
}
