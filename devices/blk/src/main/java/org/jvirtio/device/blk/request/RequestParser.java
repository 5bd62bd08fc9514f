package org.jvirtio.device.blk.request;

import static org.jvirtio.device.blk.request.BlockProtocol.HEADER_BYTES;
import static org.jvirtio.device.blk.request.BlockProtocol.SECTOR_BYTES;
import static org.jvirtio.device.blk.request.BlockProtocol.SECTOR_SHIFT;
import static org.jvirtio.device.blk.request.BlockProtocol.SEGMENT_BYTES;
import static org.jvirtio.device.blk.request.BlockProtocol.SEGMENT_F_UNMAP;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.jvirtio.api.queue.DescriptorChain;

/**
 * Turns a validated chain into a {@link BlockRequest} or a specific {@link RequestError}, touching no
 * backend: it only reads the header and the segments from guest memory. (Firecracker
 * {@code block/virtio/request.rs}.) Every length the driver wrote is checked here; the executor relies
 * on nothing else. Not thread-safe: one per queue worker; parsing allocates nothing.
 *
 * <p>Checks, in order: a status byte (without one nothing can be reported), a whole header, then per
 * type the direction of the data, the feature, read-only, the data length and the sector range.
 */
public final class RequestParser {
    private final DiskLimits limits;
    private final ChainCursor cursor = new ChainCursor();
    private final ByteBuffer scratch = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);

    public RequestParser(DiskLimits limits) {
        this.limits = limits;
    }

    public DiskLimits limits() {
        return limits;
    }

    /**
     * Parses {@code chain} into {@code request}. Guest memory may throw
     * {@link org.jvirtio.api.memory.GuestMemoryException} if the map changed since the chain was
     * validated; the caller counts that as {@link RequestError#GUEST_MEMORY}.
     */
    public RequestError parse(DescriptorChain chain, BlockRequest request) {
        request.clear();
        long status = statusAddress(chain);
        if (status < 0) {
            return RequestError.NO_STATUS_BYTE;
        }
        request.statusAddress = status;
        long readable = chain.readableBytes();
        long writable = chain.writableBytes();
        if (readable < HEADER_BYTES) {
            return RequestError.HEADER_TOO_SHORT;
        }
        cursor.readable(chain, 0);
        scratch.clear();
        if (!cursor.gather(scratch)) {
            return RequestError.HEADER_TOO_SHORT;
        }
        int type = scratch.getInt(0);
        request.type = type;
        request.sector = scratch.getLong(8);
        switch (type) {
            case BlockProtocol.T_IN:
                return parseRead(request, readable, writable);
            case BlockProtocol.T_OUT:
                return parseWrite(request, readable, writable);
            case BlockProtocol.T_FLUSH:
                // the sector is ignored (spec: the driver sets it to 0); any data is ignored too
                return limits.flush() ? RequestError.NONE : RequestError.UNSUPPORTED_TYPE;
            case BlockProtocol.T_GET_ID:
                if (readable != HEADER_BYTES) {
                    return RequestError.WRONG_DIRECTION;
                }
                request.dataLength = writable - 1;
                return RequestError.NONE;
            case BlockProtocol.T_DISCARD:
                return limits.discard()
                        ? parseSegments(request, readable, writable, false, limits.maxDiscardSegments(),
                                limits.maxDiscardSectors())
                        : RequestError.UNSUPPORTED_TYPE;
            case BlockProtocol.T_WRITE_ZEROES:
                return limits.writeZeroes()
                        ? parseSegments(request, readable, writable, true, limits.maxWriteZeroesSegments(),
                                limits.maxWriteZeroesSectors())
                        : RequestError.UNSUPPORTED_TYPE;
            default:
                return RequestError.UNSUPPORTED_TYPE;
        }
    }

    private RequestError parseRead(BlockRequest request, long readable, long writable) {
        if (readable != HEADER_BYTES) {
            return RequestError.WRONG_DIRECTION;
        }
        long length = writable - 1;
        request.dataLength = length;
        return checkRange(request.sector, length);
    }

    private RequestError parseWrite(BlockRequest request, long readable, long writable) {
        if (writable != 1) {
            return RequestError.WRONG_DIRECTION;
        }
        if (limits.readOnly()) {
            return RequestError.READ_ONLY;
        }
        long length = readable - HEADER_BYTES;
        request.dataLength = length;
        return checkRange(request.sector, length);
    }

    private RequestError checkRange(long sector, long length) {
        if ((length & (SECTOR_BYTES - 1)) != 0) {
            return RequestError.DATA_NOT_SECTOR_MULTIPLE;
        }
        return inRange(sector, length >>> SECTOR_SHIFT) ? RequestError.NONE : RequestError.OUT_OF_RANGE;
    }

    /** Whether {@code [sector, sector + sectors)} fits the disk; sector is a u64 and the sum may overflow. */
    private boolean inRange(long sector, long sectors) {
        long capacity = limits.capacitySectors();
        return sector >= 0 && sector <= capacity && sectors >= 0 && sectors <= capacity - sector;
    }

    private RequestError parseSegments(BlockRequest request, long readable, long writable, boolean writeZeroes,
            int maxSegments, long maxSectors) {
        if (writable != 1) {
            return RequestError.WRONG_DIRECTION;
        }
        if (limits.readOnly()) {
            return RequestError.READ_ONLY;
        }
        long payload = readable - HEADER_BYTES;
        if (payload == 0 || payload % SEGMENT_BYTES != 0) {
            return RequestError.SEGMENTS_MALFORMED;
        }
        long count = payload / SEGMENT_BYTES;
        if (count > maxSegments || count > request.segmentCapacity()) {
            return RequestError.TOO_MANY_SEGMENTS;
        }
        // the cursor stands just past the header
        for (int i = 0; i < (int) count; i++) {
            scratch.clear();
            if (!cursor.gather(scratch)) {
                return RequestError.SEGMENTS_MALFORMED;
            }
            long sector = scratch.getLong(0);
            long sectors = Integer.toUnsignedLong(scratch.getInt(8));
            int flags = scratch.getInt(12);
            boolean unmap = (flags & SEGMENT_F_UNMAP) != 0;
            // spec 5.2.6.2: unknown flags, and UNMAP on a discard, are UNSUPP
            if ((flags & ~SEGMENT_F_UNMAP) != 0 || (unmap && !writeZeroes)) {
                return RequestError.SEGMENT_FLAGS_UNSUPPORTED;
            }
            if (sectors > maxSectors) {
                return RequestError.SEGMENT_TOO_LARGE;
            }
            if (!inRange(sector, sectors)) {
                return RequestError.OUT_OF_RANGE;
            }
            request.setSegment(i, sector, sectors, unmap);
        }
        request.segmentCount = (int) count;
        return RequestError.NONE;
    }

    /** Guest address of the last writable byte (skipping zero-length descriptors), or -1. */
    private static long statusAddress(DescriptorChain chain) {
        for (int i = chain.count() - 1; i >= chain.readableCount(); i--) {
            long length = Integer.toUnsignedLong(chain.length(i));
            if (length != 0) {
                return chain.address(i) + length - 1;
            }
        }
        return -1;
    }
}
