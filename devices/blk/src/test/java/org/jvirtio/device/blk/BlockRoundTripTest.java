package org.jvirtio.device.blk;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.stream.Stream;

import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.blk.backend.BlockBackend;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.device.blk.request.BlockProtocol;
import org.jvirtio.device.blk.request.RequestError;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Reads, writes, flush and GET_ID through split and packed rings, against every backend. */
class BlockRoundTripTest {
    @TempDir
    Path dir;
    private BlockBackend backend;

    @AfterEach
    void close() throws Exception {
        if (backend != null) {
            backend.close();
        }
    }

    static Stream<Arguments> everyBackendAndFormat() {
        return Stream.of(Backends.values()).flatMap(b -> Stream.of(Arguments.of(b, false), Arguments.of(b, true)));
    }

    @ParameterizedTest(name = "{0} packed={1}")
    @MethodSource("everyBackendAndFormat")
    void writeThenReadBack(Backends kind, boolean packed) throws Exception {
        backend = kind.open(dir);
        BlkRig bench = new BlkRig(backend, BlkRig.options().build(), packed);
        byte[] data = BlkRig.pattern(3 * 512, 1);

        BlkRig.Completion w = bench.write(0, 5, data);
        assertThat(w.status()).isEqualTo(BlockProtocol.S_OK);
        assertThat(w.usedLength()).isEqualTo(1);

        byte[] back = new byte[3 * 512];
        BlkRig.Completion r = bench.read(0, 5, back.length, back);
        assertThat(r.status()).isEqualTo(BlockProtocol.S_OK);
        assertThat(r.usedLength()).isEqualTo(3 * 512 + 1);
        byte[] expected = kind == Backends.NULL ? new byte[back.length] : data;
        assertThat(back).isEqualTo(expected);
        assertThat(Backends.content(backend, 5 * 512, back.length)).isEqualTo(expected);

        // the last sector of the disk is reachable, and nothing past it
        long last = Backends.SIZE / 512 - 1;
        assertThat(bench.write(0, last, BlkRig.pattern(512, 2)).status()).isEqualTo(BlockProtocol.S_OK);
        assertThat(bench.read(0, last, 512, null).status()).isEqualTo(BlockProtocol.S_OK);

        QueueMetrics m = bench.device.metrics(0);
        assertThat(m.get(BlockCounter.WRITES)).isEqualTo(2);
        assertThat(m.get(BlockCounter.READS)).isEqualTo(2);
        assertThat(m.get(BlockCounter.BYTES_WRITTEN)).isEqualTo(4 * 512);
        assertThat(m.get(BlockCounter.BYTES_READ)).isEqualTo(4 * 512);
        assertThat(m.totalErrors()).isZero();
        assertThat(bench.notifier.used.get(0)).isPositive();
        assertThat(bench.memory.guardsIntact()).isTrue();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void headerDataAndStatusSplitAnywhere(boolean packed) throws Exception {
        backend = MemoryBackend.of(Backends.SIZE, true);
        BlkRig bench = new BlkRig(backend, BlkRig.options().build(), packed);
        byte[] data = BlkRig.pattern(1024, 3);
        // OUT: header in two pieces (5 + 11 bytes), the second followed by data in the same buffer
        long header = bench.header(BlockProtocol.T_OUT, 9);
        byte[] tail = new byte[11 + 300];
        bench.memory.map().read(header + 5, tail, 0, 11);
        System.arraycopy(data, 0, tail, 11, 300);
        long tailAt = bench.memory.store(tail);
        long rest = bench.memory.store(java.util.Arrays.copyOfRange(data, 300, 1024));
        long status = bench.statusByte();
        ScatterGatherList out = new ScatterGatherList(8).addReadable(header, 5).addReadable(tailAt, tail.length)
                .addReadable(rest, 724).addWritable(status, 1);
        assertThat(bench.submit(0, out, false)).isEqualTo(1);
        assertThat(bench.status(status)).isEqualTo(BlockProtocol.S_OK);
        assertThat(Backends.content(backend, 9 * 512, 1024)).isEqualTo(data);

        // IN: data in 100 + 411 bytes, then one buffer holding the last 513 data bytes and the status,
        // then a zero-length writable buffer that must not be taken for the status
        long a = bench.buffer(100, 0);
        long b = bench.buffer(411, 0);
        long c = bench.buffer(514, 0xFF);
        long empty = bench.buffer(1, 0x77);
        ScatterGatherList in = new ScatterGatherList(8).addReadable(bench.header(BlockProtocol.T_IN, 9), 16)
                .addWritable(a, 100).addWritable(b, 411).addWritable(c, 514).addWritable(empty, 0);
        assertThat(bench.submit(0, in, true)).isEqualTo(1025);
        byte[] back = new byte[1024];
        bench.memory.map().read(a, back, 0, 100);
        bench.memory.map().read(b, back, 100, 411);
        bench.memory.map().read(c, back, 511, 513);
        assertThat(back).isEqualTo(data);
        assertThat(bench.status(c + 513)).isEqualTo(BlockProtocol.S_OK);
        assertThat(bench.status(empty)).isEqualTo((byte) 0x77);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void requestsLargerThanTheCopyBufferGoInPieces(boolean packed) throws Exception {
        backend = MemoryBackend.of(Backends.SIZE, false);
        BlkRig bench = new BlkRig(backend, BlkRig.options().bufferSize(1536).build(), packed);
        byte[] data = BlkRig.pattern(64 * 1024, 4);
        assertThat(bench.write(0, 100, data).status()).isEqualTo(BlockProtocol.S_OK);
        byte[] back = new byte[data.length];
        assertThat(bench.read(0, 100, back.length, back).status()).isEqualTo(BlockProtocol.S_OK);
        assertThat(back).isEqualTo(data);
        assertThat(Backends.content(backend, 100 * 512, data.length)).isEqualTo(data);
    }

    @ParameterizedTest(name = "{0} packed={1}")
    @MethodSource("everyBackendAndFormat")
    void flushAndGetId(Backends kind, boolean packed) throws Exception {
        backend = kind.open(dir);
        BlkRig bench = new BlkRig(backend, BlkRig.options().build(), packed);
        assertThat(bench.write(0, 0, BlkRig.pattern(512, 5)).status()).isEqualTo(BlockProtocol.S_OK);
        BlkRig.Completion flush = bench.headerOnly(0, BlockProtocol.T_FLUSH, 0);
        assertThat(flush.status()).isEqualTo(BlockProtocol.S_OK);
        assertThat(flush.usedLength()).isEqualTo(1);
        assertThat(bench.device.metrics(0).get(BlockCounter.FLUSHES)).isEqualTo(1);

        long id = bench.buffer(20, 0xAA);
        long status = bench.statusByte();
        int used = bench.submit(0, new ScatterGatherList(3).addReadable(bench.header(BlockProtocol.T_GET_ID, 0), 16)
                .addWritable(id, 20).addWritable(status, 1), false);
        assertThat(used).isEqualTo(21);
        assertThat(bench.status(status)).isEqualTo(BlockProtocol.S_OK);
        byte[] expected = new byte[20];
        byte[] serial = "blk-test-serial".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(serial, 0, expected, 0, serial.length);
        assertThat(bench.memory.load(id, 20)).isEqualTo(expected);
        assertThat(bench.device.metrics(0).get(BlockCounter.GET_IDS)).isEqualTo(1);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void withoutFlushNegotiatedEveryWriteIsWriteThroughAndFlushIsUnsupported(boolean packed) throws Exception {
        backend = MemoryBackend.of(Backends.SIZE, true);
        BlkRig bench = new BlkRig(new BlockDevice(backend, BlkRig.options().build()), packed,
                1L << BlockFeatures.FLUSH);
        assertThat(bench.device.isWriteThrough()).isTrue();
        BlkRig.Completion flush = bench.headerOnly(0, BlockProtocol.T_FLUSH, 0);
        assertThat(flush.status()).isEqualTo(BlockProtocol.S_UNSUPP);
        assertThat(bench.device.metrics(0).errors(RequestError.UNSUPPORTED_TYPE)).isEqualTo(1);
        bench.assertStillWorks(0);
    }
}
