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
}
