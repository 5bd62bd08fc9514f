package org.jvirtio.device.blk.backend.nulldisk;

import java.nio.ByteBuffer;

import org.jvirtio.device.blk.backend.BlockBackend;
import org.jvirtio.device.blk.backend.support.Zeroes;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * A disk with no storage, like Linux's null_blk: reads return zeroes, writes are dropped. Measures the
 * device and transport without any I/O cost. (The package is {@code nulldisk}: {@code null} is a
 * keyword.)
 */
@Component(service = BlockBackend.class, configurationPolicy = ConfigurationPolicy.REQUIRE,
        configurationPid = NullBackend.PID)
@Designate(ocd = NullBackend.Config.class, factory = true)
public final class NullBackend implements BlockBackend {
    public static final String PID = "org.jvirtio.blk.backend.null";

    @ObjectClassDefinition(name = "jvirtio block backend: null", description = "Reads zeroes, drops writes")
    public @interface Config {
        /** Bytes of disk the driver sees. */
        long size();

        boolean readOnly() default false;

        int blockSize() default 512;
    }

    private final long size;
    private final boolean readOnly;
    private final int blockSize;

    @Activate
    public NullBackend(Config config) {
        this(config.size(), config.readOnly(), config.blockSize());
    }

    public NullBackend(long size, boolean readOnly, int blockSize) {
        if (size < 0) {
            throw new IllegalArgumentException("negative size: " + size);
        }
        if (blockSize < 512 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size must be a power of two >= 512: " + blockSize);
        }
        this.size = size;
        this.readOnly = readOnly;
        this.blockSize = blockSize;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        Zeroes.fill(dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) {
        src.position(src.limit());
    }

    @Override
    public void flush() {
    }

    @Override
    public void discard(long offset, long length) {
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayUnmap) {
    }

    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "NullBackend[" + size + " bytes]";
    }
}
