package org.jvirtio.device.blk;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;

import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.blk.backend.BlockBackend;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.jvirtio.device.blk.request.RequestError;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each way a driver can get a request wrong: the status byte says so, its counter moves, and the next
 * good request on the same queue works.
 */
class MalformedRequestTest {
    private static final long CAPACITY = Backends.SIZE / 512;

    private BlkRig bench;

    private void start(boolean packed) throws Exception {
        start(MemoryBackend.of(Backends.SIZE, true), packed);
    }

    private void start(BlockBackend backend, boolean packed) throws Exception {
        bench = new BlkRig(backend, BlkRig.options().discardLimits(16, 2).writeZeroesLimits(16, 2, true).build(),
                packed);
    }

    /** The request failed with {@code status}, counted once as {@code error} and as nothing else. */
    private void assertFailed(BlkRig.Completion c, byte status, RequestError error) {
        assertThat(c.status()).isEqualTo(status);
        assertThat(c.usedLength()).isEqualTo(1);
        assertCounted(error);
    }

    private void assertCounted(RequestError error) {
        QueueMetrics m = bench.device.metrics(0);
        assertThat(m.errors(error)).isEqualTo(1);
        assertThat(m.totalErrors()).isEqualTo(1);
    }

    @AfterEach
    void queueGoesOn() {
        bench.assertStillWorks(0);
        assertThat(bench.device.metrics(0).totalErrors()).isEqualTo(1);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void headerShorterThan16Bytes(boolean packed) throws Exception {
        start(packed);
        long status = bench.statusByte();
        int used = bench.submit(0, new ScatterGatherList(2).addReadable(bench.header(BlockProtocol.T_IN, 0), 15)
                .addWritable(status, 1), false);
        assertFailed(new BlkRig.Completion(bench.status(status), used), BlockProtocol.S_IOERR,
                RequestError.HEADER_TOO_SHORT);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void noStatusByte(boolean packed) throws Exception {
        start(packed);
        long after = bench.buffer(1, 0x66);
        int used = bench.submit(0, new ScatterGatherList(1).addReadable(bench.header(BlockProtocol.T_FLUSH, 0), 16),
                false);
        assertThat(used).isZero();
        assertThat(bench.status(after)).isEqualTo((byte) 0x66);
        assertCounted(RequestError.NO_STATUS_BYTE);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void readLengthNotASectorMultiple(boolean packed) throws Exception {
        start(packed);
        assertFailed(bench.read(0, 0, 100, null), BlockProtocol.S_IOERR, RequestError.DATA_NOT_SECTOR_MULTIPLE);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void writeLengthNotASectorMultiple(boolean packed) throws Exception {
        start(packed);
        assertFailed(bench.write(0, 0, new byte[513]), BlockProtocol.S_IOERR, RequestError.DATA_NOT_SECTOR_MULTIPLE);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void readPastTheCapacity(boolean packed) throws Exception {
        start(packed);
        assertFailed(bench.read(0, CAPACITY - 1, 1024, null), BlockProtocol.S_IOERR, RequestError.OUT_OF_RANGE);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void writeWhoseSectorPlusLengthOverflows(boolean packed) throws Exception {
        start(packed);
        // sector 2^64 - 1 (negative as a Java long) plus one sector wraps to 0
        assertFailed(bench.write(0, -1L, new byte[512]), BlockProtocol.S_IOERR, RequestError.OUT_OF_RANGE);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void writeFarPastTheCapacity(boolean packed) throws Exception {
        start(packed);
        assertFailed(bench.write(0, Long.MAX_VALUE, new byte[512]), BlockProtocol.S_IOERR, RequestError.OUT_OF_RANGE);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void writeWithWritableData(boolean packed) throws Exception {
        start(packed);
        long status = bench.statusByte();
        long in = bench.buffer(512, 0);
        int used = bench.submit(0, new ScatterGatherList(4).addReadable(bench.header(BlockProtocol.T_OUT, 0), 16)
                .addReadable(bench.buffer(512, 1), 512).addWritable(in, 512).addWritable(status, 1), false);
        assertFailed(new BlkRig.Completion(bench.status(status), used), BlockProtocol.S_IOERR,
                RequestError.WRONG_DIRECTION);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void readWithReadableData(boolean packed) throws Exception {
        start(packed);
        long status = bench.statusByte();
        int used = bench.submit(0, new ScatterGatherList(4).addReadable(bench.header(BlockProtocol.T_IN, 0), 16)
                .addReadable(bench.buffer(512, 1), 512).addWritable(bench.buffer(512, 0), 512)
                .addWritable(status, 1), false);
        assertFailed(new BlkRig.Completion(bench.status(status), used), BlockProtocol.S_IOERR,
                RequestError.WRONG_DIRECTION);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void unknownType(boolean packed) throws Exception {
        start(packed);
        assertFailed(bench.headerOnly(0, 99, 0), BlockProtocol.S_UNSUPP, RequestError.UNSUPPORTED_TYPE);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void discardSegmentsNotWhole(boolean packed) throws Exception {
        start(packed);
        long status = bench.statusByte();
        int used = bench.submit(0, new ScatterGatherList(3).addReadable(bench.header(BlockProtocol.T_DISCARD, 0), 16)
                .addReadable(bench.buffer(20, 0), 20).addWritable(status, 1), false);
        assertFailed(new BlkRig.Completion(bench.status(status), used), BlockProtocol.S_IOERR,
                RequestError.SEGMENTS_MALFORMED);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void discardWithoutSegments(boolean packed) throws Exception {
        start(packed);
        assertFailed(bench.headerOnly(0, BlockProtocol.T_DISCARD, 0), BlockProtocol.S_IOERR,
                RequestError.SEGMENTS_MALFORMED);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void tooManyDiscardSegments(boolean packed) throws Exception {
        start(packed);
        assertFailed(bench.segmentRequest(0, BlockProtocol.T_DISCARD, new long[][] {{0, 1, 0}, {2, 1, 0}, {4, 1, 0}}),
                BlockProtocol.S_IOERR, RequestError.TOO_MANY_SEGMENTS);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void writeZeroesSegmentTooLarge(boolean packed) throws Exception {
        start(packed);
        assertFailed(bench.segmentRequest(0, BlockProtocol.T_WRITE_ZEROES, new long[][] {{0, 17, 0}}),
                BlockProtocol.S_IOERR, RequestError.SEGMENT_TOO_LARGE);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void writeZeroesSegmentPastTheCapacity(boolean packed) throws Exception {
        start(packed);
        assertFailed(bench.segmentRequest(0, BlockProtocol.T_WRITE_ZEROES, new long[][] {{0, 1, 0}, {CAPACITY - 1, 2, 0}}),
                BlockProtocol.S_IOERR, RequestError.OUT_OF_RANGE);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void discardWithUnmap(boolean packed) throws Exception {
        start(packed);
        assertFailed(bench.segmentRequest(0, BlockProtocol.T_DISCARD, new long[][] {{0, 1, 1}}),
                BlockProtocol.S_UNSUPP, RequestError.SEGMENT_FLAGS_UNSUPPORTED);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void writeZeroesWithUnknownFlags(boolean packed) throws Exception {
        start(packed);
        assertFailed(bench.segmentRequest(0, BlockProtocol.T_WRITE_ZEROES, new long[][] {{0, 1, 0x80}}),
                BlockProtocol.S_UNSUPP, RequestError.SEGMENT_FLAGS_UNSUPPORTED);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void getIdWithReadableData(boolean packed) throws Exception {
        start(packed);
        long status = bench.statusByte();
        int used = bench.submit(0, new ScatterGatherList(4).addReadable(bench.header(BlockProtocol.T_GET_ID, 0), 16)
                .addReadable(bench.buffer(4, 0), 4).addWritable(bench.buffer(20, 0), 20).addWritable(status, 1), false);
        assertFailed(new BlkRig.Completion(bench.status(status), used), BlockProtocol.S_IOERR,
                RequestError.WRONG_DIRECTION);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void backendFailureFailsOnlyThatRequest(boolean packed) throws Exception {
        MemoryBackend real = MemoryBackend.of(Backends.SIZE, true);
        start(new FailingAtSector(real, 7), packed);
        assertFailed(bench.read(0, 7, 512, null), BlockProtocol.S_IOERR, RequestError.BACKEND_IO);
    }

    /** A backend whose sector {@code bad} is unreadable. */
    private static final class FailingAtSector implements BlockBackend {
        private final BlockBackend real;
        private final long bad;

        FailingAtSector(BlockBackend real, long bad) {
            this.real = real;
            this.bad = bad;
        }

        @Override
        public long size() {
            return real.size();
        }

        @Override
        public boolean isReadOnly() {
            return real.isReadOnly();
        }

        @Override
        public int blockSize() {
            return real.blockSize();
        }

        @Override
        public void read(long offset, ByteBuffer dst) throws IOException {
            if (offset == bad * 512) {
                throw new IOException("medium error");
            }
            real.read(offset, dst);
        }

        @Override
        public void write(long offset, ByteBuffer src) throws IOException {
            real.write(offset, src);
        }

        @Override
        public void flush() throws IOException {
            real.flush();
        }

        @Override
        public void discard(long offset, long length) throws IOException {
            real.discard(offset, length);
        }

        @Override
        public void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException {
            real.writeZeroes(offset, length, mayUnmap);
        }

        @Override
        public void close() throws IOException {
            real.close();
        }
    }
}
