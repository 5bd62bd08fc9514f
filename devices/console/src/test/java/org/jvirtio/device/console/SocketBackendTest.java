package org.jvirtio.device.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.device.console.queue.ControlMessage.CONSOLE_PORT;
import static org.jvirtio.device.console.queue.ControlMessage.PORT_ADD;
import static org.jvirtio.device.console.queue.ControlMessage.PORT_NAME;
import static org.jvirtio.device.console.queue.ControlMessage.PORT_OPEN;
import static org.jvirtio.device.console.queue.ControlMessage.RESIZE;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.BooleanSupplier;

import org.jvirtio.device.console.backend.memory.MemoryBackend;
import org.jvirtio.device.console.backend.socket.SocketBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The socket backend with a real client on a real UNIX or TCP socket, as a user with socat would be:
 * the guest's output before anyone attached, data both ways, one client at a time, the guest told of
 * attach and detach, output dropped (and counted) only beyond the buffer, input with back-pressure.
 */
class SocketBackendTest {
    /** How long to wait for the backend's thread: generous, since the machine is shared; no speed is asserted. */
    private static final long PATIENCE_NANOS = 60_000_000_000L;

    @TempDir
    Path dir;

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE_NANOS;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("never happened: " + what);
            }
            Thread.sleep(2);
        }
    }

    private static SocketChannel connect(SocketAddress address) throws IOException {
        SocketChannel c = address instanceof UnixDomainSocketAddress ? SocketChannel.open(StandardProtocolFamily.UNIX)
                : SocketChannel.open();
        c.connect(address);
        return c;
    }

    /** Reads exactly {@code n} bytes (blocking). */
    private static String read(SocketChannel c, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (c.read(b) < 0) {
                throw new AssertionError("closed after " + b.position() + " of " + n + " bytes");
            }
        }
        return new String(b.array(), StandardCharsets.UTF_8);
    }

    private static void write(SocketChannel c, String text) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            c.write(b);
        }
    }

    /** Reads the port until {@code n} bytes arrived, the guest posting its buffers again as it goes. */
    private static byte[] guestReads(LinuxDriver guest, int port, int n) throws InterruptedException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        await(n + " bytes in the guest", () -> {
            got.writeBytes(guest.read(port));
            return got.size() >= n;
        });
        assertThat(got.size()).isEqualTo(n);
        return got.toByteArray();
    }

    @Test
    void aUserAttachesToTheConsoleOverAUnixSocket() throws Exception {
        Path path = dir.resolve("con0.sock");
        try (SocketBackend socket = new SocketBackend(UnixDomainSocketAddress.of(path), 4096)) {
            ConsoleRig rig = new ConsoleRig(List.of(socket), ConsoleRig.options().build(), false, 0);
            LinuxDriver guest = new LinuxDriver(rig).probe();
            assertThat(guest.eventsFor(0)).as("nobody attached: no PORT_OPEN").containsExactly(PORT_ADD, CONSOLE_PORT, RESIZE);

            guest.write(0, "[    0.000000] Linux version\n");
            assertThat(socket.bufferedBytes()).isEqualTo(29);

            try (SocketChannel user = connect(UnixDomainSocketAddress.of(path))) {
                await("the guest told of the user", () -> {
                    guest.processControl();
                    return Boolean.TRUE.equals(guest.hostConnected.get(0));
                });
                assertThat(read(user, 29)).isEqualTo("[    0.000000] Linux version\n");
                guest.write(0, "login: ");
                assertThat(read(user, 7)).isEqualTo("login: ");
                write(user, "root\n");
                assertThat(new String(guestReads(guest, 0, 5), StandardCharsets.UTF_8)).isEqualTo("root\n");
                assertThat(socket.receivedBytes()).isEqualTo(5);

                // a second user is turned away while the first is attached
                try (SocketChannel intruder = connect(UnixDomainSocketAddress.of(path))) {
                    assertThat(intruder.read(ByteBuffer.allocate(1))).isEqualTo(-1);
                }
                assertThat(socket.refusedClients()).isEqualTo(1);
                guest.write(0, "# ");
                assertThat(read(user, 2)).isEqualTo("# ");
            }
            await("the guest told the user left", () -> {
                guest.processControl();
                return Boolean.FALSE.equals(guest.hostConnected.get(0));
            });
            assertThat(guest.eventsFor(0)).endsWith(PORT_OPEN, PORT_OPEN);
            assertThat(socket.droppedBytes()).isZero();

            // the next user gets what the guest wrote meanwhile
            guest.write(0, "while away\n");
            try (SocketChannel again = connect(UnixDomainSocketAddress.of(path))) {
                assertThat(read(again, 11)).isEqualTo("while away\n");
            }
            assertThat(socket.clients()).isEqualTo(2);
            assertThat(rig.malformed()).isEmpty();
            rig.assertHealthy();
            rig.device.close();
        }
        assertThat(Files.exists(path)).as("the socket file is removed").isFalse();
    }

    @Test
    void outputBeyondTheBufferWhileNobodyIsAttachedIsDroppedAndCounted() throws Exception {
        Path path = dir.resolve("small.sock");
        try (SocketBackend socket = new SocketBackend(UnixDomainSocketAddress.of(path), 16)) {
            ConsoleRig rig = new ConsoleRig(List.of(socket), ConsoleRig.options().build(), true, 0);
            LinuxDriver guest = new LinuxDriver(rig).probe();
            guest.write(0, "0123456789");
            guest.write(0, "abcdefghij");
            assertThat(socket.droppedBytes()).isEqualTo(4);
            try (SocketChannel user = connect(UnixDomainSocketAddress.of(path))) {
                assertThat(read(user, 16)).isEqualTo("0123456789abcdef");
                guest.write(0, "!");
                assertThat(read(user, 1)).isEqualTo("!");
            }
            rig.device.close();
        }
    }

    @Test
    void inputLargerThanTheGuestsBuffersArrivesWholeAndOnceOverTcp() throws Exception {
        try (SocketBackend socket = new SocketBackend(new InetSocketAddress("127.0.0.1", 0), 4096)) {
            ConsoleRig rig = new ConsoleRig(List.of(new MemoryBackend(), socket),
                    ConsoleRig.options().names("", "org.jvirtio.bulk").build(), false, 0);
            LinuxDriver guest = new LinuxDriver(rig, 4, 256).probe();
            assertThat(guest.eventsFor(1)).containsExactly(PORT_ADD, PORT_NAME);
            guest.open(1);
            byte[] sent = new byte[64 * 1024];
            new Random(7).nextBytes(sent);
            try (SocketChannel user = connect(socket.address())) {
                Thread writer = new Thread(() -> {
                    try {
                        user.write(ByteBuffer.wrap(sent)); // blocks while the guest's buffers are full
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                writer.start();
                assertThat(guestReads(guest, 1, sent.length)).isEqualTo(sent);
                writer.join();
                assertThat(guest.read(1)).as("nothing twice").isEmpty();
                assertThat(socket.receivedBytes()).isEqualTo(sent.length);
                assertThat(rig.device.count(ConsoleCounter.RX_NO_ROOM)).as("the guest's buffers ran out").isPositive();

                guest.write(1, "ack");
                assertThat(read(user, 3)).isEqualTo("ack");
            }
            assertThat(rig.malformed()).isEmpty();
            rig.assertHealthy();
            rig.device.close();
        }
    }

    @Test
    void inputSentJustBeforeTheUserLeftStillReachesTheGuest() throws Exception {
        Path path = dir.resolve("late.sock");
        try (SocketBackend socket = new SocketBackend(UnixDomainSocketAddress.of(path), 4096)) {
            ConsoleRig rig = new ConsoleRig(List.of(socket), ConsoleRig.options().build(), false, 0);
            // one buffer of 4 bytes: most of the input waits in the backend when the user leaves
            LinuxDriver guest = new LinuxDriver(rig, 1, 4).probe();
            try (SocketChannel user = connect(UnixDomainSocketAddress.of(path))) {
                write(user, "goodbye!");
                await("the first bytes in the guest", () -> rig.device.count(ConsoleCounter.RX_BYTES) >= 4);
            } // the user is gone, its last bytes still in the backend: they go on as the guest reads
            assertThat(new String(guestReads(guest, 0, 8), StandardCharsets.UTF_8)).isEqualTo("goodbye!");
            rig.device.close();
        }
    }

    @Test
    void aClientThatReadsSlowlyNeverHoldsUpTheGuestAndEveryByteIsAccountedFor() throws Exception {
        Path path = dir.resolve("slow.sock");
        try (SocketBackend socket = new SocketBackend(UnixDomainSocketAddress.of(path), 8192)) {
            ConsoleRig rig = new ConsoleRig(List.of(socket), ConsoleRig.options().build(), false, 0);
            LinuxDriver guest = new LinuxDriver(rig).probe();
            try (SocketChannel user = connect(UnixDomainSocketAddress.of(path))) {
                await("attached", () -> socket.isClientAttached());
                String chunk = "0123456789abcdef".repeat(64); // 1 KiB
                int chunks = 4096; // 4 MiB: far more than the socket and the backend buffer hold
                for (int i = 0; i < chunks; i++) {
                    guest.write(0, chunk); // each write completes at once, the client reading nothing
                }
                long written = (long) chunks * chunk.length();
                assertThat(socket.droppedBytes()).as("the client lags: the excess is dropped").isPositive();
                // now the client reads everything the backend kept for it, until nothing is left in between
                ByteBuffer in = ByteBuffer.allocate((int) written);
                while (socket.bufferedBytes() > 0 || in.position() < socket.sentBytes()) {
                    assertThat(user.read(in)).isNotNegative();
                }
                assertThat(in.position() + socket.droppedBytes()).as("every byte sent or counted as dropped")
                        .isEqualTo(written);
                // whole bytes in order: the stream is the chunk pattern, cut only where bytes were dropped
                String received = new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII);
                assertThat(received).startsWith(chunk);
                assertThat(received.chars().allMatch(c -> chunk.indexOf(c) >= 0)).isTrue();
            }
            assertThat(rig.malformed()).isEmpty();
            rig.assertHealthy();
            rig.device.close();
        }
    }
}
