package org.jvirtio.nativeio;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class UnixSocketTest {

    private static final long PAGE = MappedMemory.pageSize();

    private UnixSocket left;
    private UnixSocket right;
    private final List<NativeFd> received = new ArrayList<>();

    @BeforeEach
    void pair() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        left = pair[0];
        right = pair[1];
    }

    @AfterEach
    void close() {
        received.forEach(NativeFd::close);
        left.close();
        right.close();
    }

    @Test
    void bytesAndThreeDescriptorsArriveAsRealDescriptors() throws Exception {
        try (NativeFd memfd = Memfd.create("guest-ram", PAGE);
             MappedMemory ram = MappedMemory.map(memfd, 0, PAGE, true);
             EventFd kick = EventFd.create(true);
             NativeFd other = Memfd.create("other", 2 * PAGE)) {
            ram.slice(0, 5).put(0, "hello".getBytes(US_ASCII));

            ByteBuffer message = ByteBuffer.wrap("SET_MEM_TABLE".getBytes(US_ASCII));
            assertThat(left.send(message, memfd, kick.fd(), other)).isEqualTo(13);
            assertThat(message.hasRemaining()).isFalse();

            ByteBuffer dst = ByteBuffer.allocate(64);
            assertThat(right.receive(dst, received, 8)).isEqualTo(13);
            assertThat(new String(dst.array(), 0, dst.position(), US_ASCII)).isEqualTo("SET_MEM_TABLE");
            assertThat(received).hasSize(3);
            assertThat(received).allSatisfy(fd -> assertThat(fd.isOpen()).isTrue());

            // The received memfd shows what was written through the original's mapping, and back.
            try (MappedMemory peerView = MappedMemory.map(received.get(0), 0, PAGE, true)) {
                byte[] text = new byte[5];
                peerView.slice(0, 5).get(0, text);
                assertThat(new String(text, US_ASCII)).isEqualTo("hello");
                peerView.slice(8, 8).putLong(0, 99L);
                assertThat(ram.slice(8, 8).getLong(0)).isEqualTo(99L);
            }
            // A signal through the received eventfd is read on the original.
            try (EventFd peerKick = EventFd.adopt(received.get(1).duplicate())) {
                peerKick.signal();
                assertThat(kick.read()).isEqualTo(1);
            }
            assertThat(ProcSelf.fileSize(received.get(2))).isEqualTo(2 * PAGE);
            assertThat(ProcSelf.target(received.get(2))).contains("memfd:other");
        }
    }

    @Test
    void moreDescriptorsThanAcceptedAreClosedAndReportedAsTruncation() throws Exception {
        try (NativeFd a = Memfd.create("a", PAGE); EventFd b = EventFd.create(true); NativeFd c = Memfd.create("c", PAGE)) {
            left.send(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), a, b.fd(), c);
            long before = ProcSelf.openFds();
            ByteBuffer dst = ByteBuffer.allocate(4);
            assertThatThrownBy(() -> right.receive(dst, received, 1))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("truncated");
            assertThat(received).isEmpty();
            assertThat(ProcSelf.openFds()).isEqualTo(before);
        }
    }

    @Test
    void descriptorsWhereNoneAreAcceptedAreTruncationToo() throws Exception {
        try (EventFd b = EventFd.create(true)) {
            left.send(ByteBuffer.wrap(new byte[] {1}), b.fd());
            long before = ProcSelf.openFds();
            assertThatThrownBy(() -> right.receive(ByteBuffer.allocate(1), received, 0))
                    .hasMessageContaining("truncated");
            assertThat(ProcSelf.openFds()).isEqualTo(before);
        }
    }

    @Test
    void endOfStreamIsMinusOne() throws Exception {
        left.close();
        assertThat(right.receive(ByteBuffer.allocate(8), received, 0)).isEqualTo(-1);
    }

    @Test
    void receiveFullyThrowsEofExceptionWhenTheStreamEndsEarly() throws Exception {
        try (EventFd b = EventFd.create(true)) {
            left.send(ByteBuffer.wrap(new byte[] {1, 2, 3}), b.fd());
            left.shutdown();
            long before = ProcSelf.openFds();
            assertThatThrownBy(() -> right.receiveFully(ByteBuffer.allocate(8), received, 4))
                    .isInstanceOf(EOFException.class);
            // The descriptor that came with the partial message was closed again.
            assertThat(received).isEmpty();
            assertThat(ProcSelf.openFds()).isEqualTo(before);
        }
    }

    @Test
    void aLongMessageArrivesWholeWithItsDescriptorOnce() throws Exception {
        byte[] payload = new byte[200_000];
        new Random(42).nextBytes(payload);
        try (EventFd b = EventFd.create(true)) {
            CompletableFuture<Integer> sender = CompletableFuture.supplyAsync(() -> {
                try {
                    return left.send(ByteBuffer.wrap(payload), b.fd());
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            ByteBuffer dst = ByteBuffer.allocateDirect(payload.length);
            right.receiveFully(dst, received, 4);
            assertThat(sender.get(5, TimeUnit.SECONDS)).isEqualTo(payload.length);
            byte[] got = new byte[payload.length];
            dst.flip().get(got);
            assertThat(got).isEqualTo(payload);
            assertThat(received).hasSize(1);
        }
    }

    @Test
    void directAndHeapBuffersWorkAlike() throws Exception {
        ByteBuffer direct = ByteBuffer.allocateDirect(16);
        direct.putLong(0x0102_0304_0506_0708L).putLong(-2L).flip();
        left.send(direct);
        ByteBuffer heap = ByteBuffer.allocate(16);
        right.receiveFully(heap, received, 0);
        assertThat(heap.flip().getLong()).isEqualTo(0x0102_0304_0506_0708L);
        assertThat(heap.getLong()).isEqualTo(-2L);
    }

    @Test
    void theReceiveTimeoutEndsAWait() throws Exception {
        right.setReceiveTimeout(Duration.ofMillis(100));
        assertThatThrownBy(() -> right.receive(ByteBuffer.allocate(1), received, 0))
                .isInstanceOf(SocketTimeoutException.class);
        right.setReceiveTimeout(Duration.ZERO);
        left.send(ByteBuffer.wrap(new byte[] {7}));
        assertThat(right.receive(ByteBuffer.allocate(1), received, 0)).isEqualTo(1);
    }

    @Test
    void closeFromAnotherThreadEndsABlockedReceive() throws Exception {
        BlockingCall<Integer> reader = BlockingCall
                .start("receive", () -> right.receive(ByteBuffer.allocate(8), received, 0))
                .awaitBlockedIn("recvmsg");
        right.close();
        assertThatThrownBy(reader::get)
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(SocketException.class);
        assertThat(right.fd().isOpen()).isFalse();
        assertThatThrownBy(() -> right.receive(ByteBuffer.allocate(8), received, 0))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void thePeerIsThisProcess() throws Exception {
        assertThat(right.peerPid()).isEqualTo((int) ProcessHandle.current().pid());
    }

    @Test
    void descriptorsNeedDataToTravelWith() {
        assertThatThrownBy(() -> left.send(ByteBuffer.allocate(0), left.fd()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aSendToAClosedPeerIsEpipeNotASignal() throws Exception {
        right.close();
        assertThatThrownBy(() -> left.send(ByteBuffer.wrap(new byte[] {1})))
                .isInstanceOfSatisfying(NativeException.class, e -> {
                    assertThat(e.call()).isEqualTo("sendmsg");
                    assertThat(e.errnoName()).isEqualTo("EPIPE");
                });
    }
}
