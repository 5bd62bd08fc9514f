package org.jvirtio.device.blk.backend.file;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Set;

import org.jvirtio.device.blk.backend.BlockBackend;
import org.jvirtio.device.blk.backend.support.Zeroes;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * A raw disk image in a file, through one {@link FileChannel} and positional I/O only, so that queues
 * on different threads never share a file position.
 *
 * <p>Java has no {@code fallocate(PUNCH_HOLE)}: nothing here can deallocate blocks in the middle of a
 * file. So {@link #discard} does nothing by default (virtio leaves a discarded range's contents
 * undefined, and writing zeroes would turn a guest's fstrim into a write of all free space), or writes
 * zeroes when configured to; {@link #writeZeroes} always writes zeroes, ignoring {@code mayUnmap}.
 * Truncation is not used: it is only correct for a range that reaches the end of the image, and a
 * concurrent write past the truncation point would be lost.
 */
@Component(service = BlockBackend.class, configurationPolicy = ConfigurationPolicy.REQUIRE,
        configurationPid = FileBackend.PID)
@Designate(ocd = FileBackend.Config.class, factory = true)
public final class FileBackend implements BlockBackend {
    public static final String PID = "org.jvirtio.blk.backend.file";

    @ObjectClassDefinition(name = "jvirtio block backend: file", description = "A raw image file as a virtio-blk disk")
    public @interface Config {
        /** The image file. */
        String path();

        /** Bytes of disk; 0 means the file's current size. A larger size extends the file sparsely. */
        long size() default 0;

        /** Whether to create the file (sparse, of {@link #size()} bytes) if it does not exist. */
        boolean create() default false;

        boolean readOnly() default false;

        int blockSize() default 512;

        /** Whether discard writes zeroes (costly) instead of leaving the data in place. */
        boolean discardWritesZeroes() default false;
    }

    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final boolean readOnly;
    private final int blockSize;
    private final boolean discardWritesZeroes;

    @Activate
    public FileBackend(Config config) throws IOException {
        this(Path.of(config.path()), config.size(), config.create(), config.readOnly(), config.blockSize(),
                config.discardWritesZeroes());
    }

    /**
     * Opens (or creates) {@code path}.
     *
     * @param size 0 for the file's size; more than the file's size extends it sparsely (not when read-only)
     */
    public FileBackend(Path path, long size, boolean create, boolean readOnly, int blockSize,
            boolean discardWritesZeroes) throws IOException {
        checkBlockSize(blockSize);
        if (size < 0) {
            throw new IllegalArgumentException("negative size: " + size);
        }
        Set<StandardOpenOption> options = EnumSet.of(StandardOpenOption.READ);
        if (!readOnly) {
            options.add(StandardOpenOption.WRITE);
        }
        if (create && !readOnly) {
            options.add(StandardOpenOption.CREATE);
        }
        this.path = path;
        this.channel = FileChannel.open(path, options);
        try {
            long current = channel.size();
            if (size > current) {
                if (readOnly) {
                    throw new IOException(path + " has " + current + " bytes, less than the " + size + " configured");
                }
                // one byte at the end: the file system allocates nothing in between (a sparse file)
                channel.write(ByteBuffer.allocate(1), size - 1);
            }
            this.size = size == 0 ? current : size;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        this.readOnly = readOnly;
        this.blockSize = blockSize;
        this.discardWritesZeroes = discardWritesZeroes;
    }

    /** A writable image of {@code size} bytes, created sparse if missing, 512-byte blocks. */
    public static FileBackend create(Path path, long size) throws IOException {
        return new FileBackend(path, size, true, false, 512, false);
    }

    static void checkBlockSize(int blockSize) {
        if (blockSize < 512 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size must be a power of two >= 512: " + blockSize);
        }
    }

    public Path path() {
        return path;
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
    public void read(long offset, ByteBuffer dst) throws IOException {
        long at = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, at);
            if (n < 0) {
                // past the end of a file that shrank under us: a disk reads zeroes there, not garbage
                Zeroes.fill(dst);
                return;
            }
            at += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        requireWritable();
        long at = offset;
        while (src.hasRemaining()) {
            at += channel.write(src, at);
        }
    }

    @Override
    public void flush() throws IOException {
        if (!readOnly) {
            // data only (fdatasync): the size was fixed when the image was opened
            channel.force(false);
        }
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        requireWritable();
        if (discardWritesZeroes) {
            writeZeroes(offset, length, false);
        }
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException {
        requireWritable();
        long at = offset;
        long end = offset + length;
        while (at < end) {
            ByteBuffer zeroes = Zeroes.forThread((int) Math.min(Zeroes.CHUNK, end - at));
            while (zeroes.hasRemaining()) {
                at += channel.write(zeroes, at);
            }
        }
    }

    private void requireWritable() throws IOException {
        if (readOnly) {
            throw new IOException("read-only image: " + path);
        }
    }

    @Deactivate
    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "FileBackend[" + path + ", " + size + " bytes" + (readOnly ? ", read-only]" : "]");
    }
}
