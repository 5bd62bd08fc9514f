package org.jvirtio.device.blk.worker;

import static org.jvirtio.device.blk.request.BlockProtocol.HEADER_BYTES;
import static org.jvirtio.device.blk.request.BlockProtocol.ID_BYTES;
import static org.jvirtio.device.blk.request.BlockProtocol.SECTOR_SHIFT;

import java.io.IOException;
import java.nio.ByteBuffer;

import org.jvirtio.api.memory.GuestMemoryException;
import org.jvirtio.api.queue.DescriptorChain;
import org.jvirtio.device.blk.BlockCounter;
import org.jvirtio.device.blk.QueueMetrics;
import org.jvirtio.device.blk.backend.BlockBackend;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.jvirtio.device.blk.request.BlockRequest;
import org.jvirtio.device.blk.request.ChainCursor;
import org.jvirtio.device.blk.request.RequestError;

/**
 * Runs parsed requests against the backend. Data is copied, through one direct buffer per queue, between
 * guest memory and the backend: a zero-copy path would need a {@code GuestMemory.view} per descriptor,
 * which allocates, and a direct buffer lets a file channel do its I/O without another copy. Requests
 * larger than the buffer go in buffer-sized pieces. Not thread-safe: one per queue worker.
 */
public final class RequestExecutor {
    private final BlockBackend backend;
    private final WriteCache cache;
    private final QueueMetrics metrics;
    private final ByteBuffer data;
    private final ByteBuffer id;
    private final ChainCursor cursor = new ChainCursor();
    private long written;

    /**
     * @param id         the GET_ID answer, exactly {@link BlockProtocol#ID_BYTES} bytes
     * @param bufferSize bytes of the per-queue copy buffer
     */
    public RequestExecutor(BlockBackend backend, WriteCache cache, QueueMetrics metrics, byte[] id, int bufferSize) {
        if (id.length != ID_BYTES) {
            throw new IllegalArgumentException("id must be " + ID_BYTES + " bytes");
        }
        this.backend = backend;
        this.cache = cache;
        this.metrics = metrics;
        this.data = ByteBuffer.allocateDirect(bufferSize);
        this.id = ByteBuffer.wrap(id.clone()).asReadOnlyBuffer();
    }

    /** Bytes the last successful request wrote into the chain's writable data (the status byte excluded). */
    public long written() {
        return written;
    }

    /**
     * Executes {@code request}, which {@code chain} carries and the parser accepted.
     *
     * @return {@link RequestError#NONE}, {@link RequestError#BACKEND_IO} or {@link RequestError#GUEST_MEMORY}
     */
    public RequestError execute(DescriptorChain chain, BlockRequest request) {
        written = 0;
        try {
            switch (request.type()) {
                case BlockProtocol.T_IN:
                    read(chain, request);
                    break;
                case BlockProtocol.T_OUT:
                    write(chain, request);
                    break;
                case BlockProtocol.T_FLUSH:
                    backend.flush();
                    metrics.increment(BlockCounter.FLUSHES);
                    break;
                case BlockProtocol.T_GET_ID:
                    getId(chain, request);
                    break;
                case BlockProtocol.T_DISCARD:
                    for (int i = 0; i < request.segmentCount(); i++) {
                        backend.discard(request.segmentSector(i) << SECTOR_SHIFT, request.segmentSectors(i) << SECTOR_SHIFT);
                    }
                    metrics.increment(BlockCounter.DISCARDS);
                    break;
                case BlockProtocol.T_WRITE_ZEROES:
                    for (int i = 0; i < request.segmentCount(); i++) {
                        backend.writeZeroes(request.segmentSector(i) << SECTOR_SHIFT,
                                request.segmentSectors(i) << SECTOR_SHIFT, request.segmentUnmap(i));
                    }
                    if (cache.writeThrough()) {
                        backend.flush();
                    }
                    metrics.increment(BlockCounter.WRITE_ZEROES);
                    break;
                default:
                    // the parser lets no other type through
                    return RequestError.UNSUPPORTED_TYPE;
            }
            return RequestError.NONE;
        } catch (GuestMemoryException e) {
            written = 0;
            return RequestError.GUEST_MEMORY;
        } catch (IOException | RuntimeException e) {
            // a failing (or buggy) backend fails this request only
            written = 0;
            return RequestError.BACKEND_IO;
        }
    }

    private void read(DescriptorChain chain, BlockRequest request) throws IOException {
        long offset = request.sector() << SECTOR_SHIFT;
        long left = request.dataLength();
        cursor.writable(chain, 0);
        while (left > 0) {
            int n = (int) Math.min(left, data.capacity());
            data.clear().limit(n);
            backend.read(offset, data);
            if (data.hasRemaining()) {
                throw new IOException("backend read returned short");
            }
            data.flip();
            if (!cursor.scatter(data)) {
                throw new IllegalStateException("chain shorter than parsed");
            }
            offset += n;
            left -= n;
        }
        written = request.dataLength();
        metrics.increment(BlockCounter.READS);
        metrics.add(BlockCounter.BYTES_READ, written);
    }

    private void write(DescriptorChain chain, BlockRequest request) throws IOException {
        long offset = request.sector() << SECTOR_SHIFT;
        long left = request.dataLength();
        cursor.readable(chain, HEADER_BYTES);
        while (left > 0) {
            int n = (int) Math.min(left, data.capacity());
            data.clear().limit(n);
            if (!cursor.gather(data)) {
                throw new IllegalStateException("chain shorter than parsed");
            }
            data.flip();
            backend.write(offset, data);
            offset += n;
            left -= n;
        }
        if (cache.writeThrough()) {
            backend.flush();
        }
        metrics.increment(BlockCounter.WRITES);
        metrics.add(BlockCounter.BYTES_WRITTEN, request.dataLength());
    }

    private void getId(DescriptorChain chain, BlockRequest request) {
        // a shorter buffer gets a truncated id: the driver sized it, nothing is written past it
        int n = (int) Math.min(ID_BYTES, request.dataLength());
        id.clear().limit(n);
        cursor.writable(chain, 0).scatter(id);
        written = n;
        metrics.increment(BlockCounter.GET_IDS);
    }
}
