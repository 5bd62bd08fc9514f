package org.jvirtio.device.blk;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import org.jvirtio.device.blk.backend.BlockBackend;
import org.jvirtio.device.blk.backend.file.FileBackend;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.device.blk.backend.nulldisk.NullBackend;

/** The backends every round-trip test runs against, and a way to look at what they hold. */
enum Backends {
    MEMORY_HEAP, MEMORY_DIRECT, FILE, NULL;

    static final long SIZE = 1 << 20;

    BlockBackend open(Path dir) {
        try {
            switch (this) {
                case MEMORY_HEAP:
                    return MemoryBackend.of(SIZE, false);
                case MEMORY_DIRECT:
                    return MemoryBackend.of(SIZE, true);
                case FILE:
                    return FileBackend.create(Files.createTempFile(dir, "disk", ".img"), SIZE);
                default:
                    return new NullBackend(SIZE, false, 512);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code length} bytes of the backend at {@code offset}, read through the backend itself. */
    static byte[] content(BlockBackend backend, long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        backend.read(offset, b);
        return b.array();
    }
}
