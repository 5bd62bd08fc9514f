package org.jvirtio.device.blk;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * How a virtio-blk device presents itself: queues, which optional features it offers, and the limits
 * it advertises and enforces. Immutable; build with {@link #builder()}. Defaults suit a Linux guest.
 */
public final class BlockDeviceOptions {
    private final int queues;
    private final int queueSize;
    private final byte[] id;
    private final boolean readOnly;
    private final int sizeMax;
    private final int segMax;
    private final boolean blkSize;
    private final boolean flush;
    private final boolean topology;
    private final boolean configWce;
    private final boolean discard;
    private final boolean writeZeroes;
    private final boolean packed;
    private final boolean eventIdx;
    private final boolean indirect;
    private final int physicalBlockExp;
    private final int alignmentOffset;
    private final int minIoSize;
    private final int optIoSize;
    private final int maxDiscardSectors;
    private final int maxDiscardSegments;
    private final int maxWriteZeroesSectors;
    private final int maxWriteZeroesSegments;
    private final boolean writeZeroesMayUnmap;
    private final int bufferSize;

    private BlockDeviceOptions(Builder b) {
        if (b.queues < 1 || b.queues > 0xFFFF) {
            throw new IllegalArgumentException("queues must be 1 to 65535: " + b.queues);
        }
        if (b.queueSize < 2 || b.queueSize > 32768 || Integer.bitCount(b.queueSize) != 1) {
            throw new IllegalArgumentException("queue size must be a power of two, 2 to 32768: " + b.queueSize);
        }
        if (b.bufferSize < 512 || b.bufferSize % 512 != 0) {
            throw new IllegalArgumentException("buffer size must be a positive multiple of 512: " + b.bufferSize);
        }
        if (b.maxDiscardSegments < 1 || b.maxWriteZeroesSegments < 1 || b.maxDiscardSegments > 4096
                || b.maxWriteZeroesSegments > 4096) {
            throw new IllegalArgumentException("segment limits must be 1 to 4096");
        }
        queues = b.queues;
        queueSize = b.queueSize;
        id = Arrays.copyOf(b.serial.getBytes(StandardCharsets.US_ASCII), 20);
        readOnly = b.readOnly;
        sizeMax = b.sizeMax;
        segMax = b.segMax < 0 ? queueSize - 2 : b.segMax;
        blkSize = b.blkSize;
        flush = b.flush;
        topology = b.topology;
        configWce = b.configWce;
        discard = b.discard;
        writeZeroes = b.writeZeroes;
        packed = b.packed;
        eventIdx = b.eventIdx;
        indirect = b.indirect;
        physicalBlockExp = b.physicalBlockExp;
        alignmentOffset = b.alignmentOffset;
        minIoSize = b.minIoSize;
        optIoSize = b.optIoSize;
        maxDiscardSectors = b.maxDiscardSectors;
        maxDiscardSegments = b.maxDiscardSegments;
        maxWriteZeroesSectors = b.maxWriteZeroesSectors;
        maxWriteZeroesSegments = b.maxWriteZeroesSegments;
        writeZeroesMayUnmap = b.writeZeroesMayUnmap;
        bufferSize = b.bufferSize;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static BlockDeviceOptions defaults() {
        return builder().build();
    }

    public int queues() { return queues; }
    public int queueSize() { return queueSize; }
    /** The GET_ID answer: the serial in ASCII, zero-padded or cut to 20 bytes. */
    public byte[] id() { return id.clone(); }
    public boolean readOnly() { return readOnly; }
    /** 0: SIZE_MAX not offered. */
    public int sizeMax() { return sizeMax; }
    /** 0: SEG_MAX not offered. */
    public int segMax() { return segMax; }
    public boolean blkSize() { return blkSize; }
    public boolean flush() { return flush; }
    public boolean topology() { return topology; }
    public boolean configWce() { return configWce; }
    public boolean discard() { return discard; }
    public boolean writeZeroes() { return writeZeroes; }
    public boolean packed() { return packed; }
    public boolean eventIdx() { return eventIdx; }
    public boolean indirect() { return indirect; }
    public int physicalBlockExp() { return physicalBlockExp; }
    public int alignmentOffset() { return alignmentOffset; }
    public int minIoSize() { return minIoSize; }
    public int optIoSize() { return optIoSize; }
    /** A u32. */
    public int maxDiscardSectors() { return maxDiscardSectors; }
    public int maxDiscardSegments() { return maxDiscardSegments; }
    /** A u32. */
    public int maxWriteZeroesSectors() { return maxWriteZeroesSectors; }
    public int maxWriteZeroesSegments() { return maxWriteZeroesSegments; }
    public boolean writeZeroesMayUnmap() { return writeZeroesMayUnmap; }
    /** Bytes of each queue's copy buffer between guest memory and the backend. */
    public int bufferSize() { return bufferSize; }

    /** Fluent, mutable; {@link #build()} checks. */
    public static final class Builder {
        private int queues = 1;
        private int queueSize = 256;
        private String serial = "jvirtio";
        private boolean readOnly;
        private int sizeMax;
        private int segMax = -1;
        private boolean blkSize = true;
        private boolean flush = true;
        private boolean topology = true;
        private boolean configWce = true;
        private boolean discard = true;
        private boolean writeZeroes = true;
        private boolean packed = true;
        private boolean eventIdx = true;
        private boolean indirect = true;
        private int physicalBlockExp;
        private int alignmentOffset;
        private int minIoSize = 1;
        private int optIoSize;
        // 2 GiB per discard segment: a discard costs a backend little or nothing
        private int maxDiscardSectors = 1 << 22;
        private int maxDiscardSegments = 32;
        // 32 MiB per write-zeroes segment: it may really write, so bound the work of one request
        private int maxWriteZeroesSectors = 1 << 16;
        private int maxWriteZeroesSegments = 8;
        private boolean writeZeroesMayUnmap;
        private int bufferSize = 128 * 1024;

        private Builder() {
        }

        public Builder queues(int v) { queues = v; return this; }
        public Builder queueSize(int v) { queueSize = v; return this; }
        public Builder serial(String v) { serial = v; return this; }
        public Builder readOnly(boolean v) { readOnly = v; return this; }
        public Builder sizeMax(int v) { sizeMax = v; return this; }
        /** 0 to not offer SEG_MAX; default queue size - 2 (room for header and status). */
        public Builder segMax(int v) { segMax = v; return this; }
        public Builder blkSize(boolean v) { blkSize = v; return this; }
        public Builder flush(boolean v) { flush = v; return this; }
        public Builder topology(boolean v) { topology = v; return this; }
        public Builder configWce(boolean v) { configWce = v; return this; }
        public Builder discard(boolean v) { discard = v; return this; }
        public Builder writeZeroes(boolean v) { writeZeroes = v; return this; }
        public Builder packed(boolean v) { packed = v; return this; }
        public Builder eventIdx(boolean v) { eventIdx = v; return this; }
        public Builder indirect(boolean v) { indirect = v; return this; }
        public Builder topology(int physicalBlockExp, int alignmentOffset, int minIoSize, int optIoSize) {
            this.physicalBlockExp = physicalBlockExp;
            this.alignmentOffset = alignmentOffset;
            this.minIoSize = minIoSize;
            this.optIoSize = optIoSize;
            return this;
        }
        public Builder discardLimits(int maxSectors, int maxSegments) {
            maxDiscardSectors = maxSectors;
            maxDiscardSegments = maxSegments;
            return this;
        }
        public Builder writeZeroesLimits(int maxSectors, int maxSegments, boolean mayUnmap) {
            maxWriteZeroesSectors = maxSectors;
            maxWriteZeroesSegments = maxSegments;
            writeZeroesMayUnmap = mayUnmap;
            return this;
        }
        public Builder bufferSize(int v) { bufferSize = v; return this; }

        public BlockDeviceOptions build() {
            return new BlockDeviceOptions(this);
        }
    }
}
