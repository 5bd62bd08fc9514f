package org.jvirtio.api.memory;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Host memory that backs one guest region: an mmap of a memfd or hugetlbfs file, or a buffer in tests.
 * A region map slices it into {@link ByteBuffer} views, each at most 2 GiB as ByteBuffer requires.
 */
@ConsumerType
public interface MemoryBacking {

    /** Bytes of host memory available, from offset 0. */
    long size();

    /**
     * A view of {@code [offset, offset + length)} sharing the backing memory. The caller guarantees
     * the range lies inside {@link #size()}; the view's byte order and position are unspecified.
     */
    ByteBuffer slice(long offset, int length);

    /**
     * Releases the host memory of {@code [offset, offset + length)} (a memfd mapping: a hole punched
     * with {@code MADV_REMOVE}, so it reads back as zeros in every mapping). The caller guarantees the
     * range lies inside {@link #size()}. A backing releases only the whole pages of its own page size
     * inside the range and leaves the rest as it was; one that cannot release memory at all (a Java
     * buffer) keeps the contents and returns 0, which is the default.
     *
     * @return bytes released
     * @throws java.io.UncheckedIOException if the host refused (the range stays as it was)
     * @since 1.1
     */
    default long discard(long offset, long length) {
        return 0;
    }
}
