package org.jvirtio.nativeio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(20)
class UnixServerSocketTest {

    @TempDir
    Path dir;

    @Test
    void aClientConnectsAndBothSidesTalk() throws Exception {
        Path path = dir.resolve("vhost.sock");
        try (UnixServerSocket server = UnixServerSocket.bind(path, 4)) {
            assertThat(server.path()).isEqualTo(path);
            CompletableFuture<UnixSocket> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.accept();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            try (UnixSocket client = UnixSocket.connect(path); UnixSocket peer = accepted.get(5, TimeUnit.SECONDS);
                 EventFd call = EventFd.create(true)) {
                client.send(ByteBuffer.wrap(new byte[] {1, 2, 3}));
                ByteBuffer got = ByteBuffer.allocate(3);
                peer.receiveFully(got, new ArrayList<>(), 0);
                assertThat(got.array()).containsExactly(1, 2, 3);

                peer.send(ByteBuffer.wrap(new byte[] {4}), call.fd());
                List<NativeFd> fds = new ArrayList<>();
                ByteBuffer reply = ByteBuffer.allocate(1);
                client.receiveFully(reply, fds, 1);
                assertThat(reply.get(0)).isEqualTo((byte) 4);
                try (EventFd remote = EventFd.adopt(fds.get(0))) {
                    remote.write(5);
                    assertThat(call.read()).isEqualTo(5);
                }
                assertThat(client.peerPid()).isEqualTo((int) ProcessHandle.current().pid());
            }
        }
        assertThat(path).doesNotExist();
    }

    @Test
    void closingTheServerFromAnotherThreadEndsABlockedAccept() throws Exception {
        Path path = dir.resolve("accept.sock");
        UnixServerSocket server = UnixServerSocket.bind(path, 1);
        BlockingCall<UnixSocket> accepting = BlockingCall.start("accept", server::accept).awaitBlockedIn("accept4");
        assertThat(accepting.isDone()).isFalse();
        server.close();
        assertThatThrownBy(accepting::get)
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(SocketException.class);
        assertThat(path).doesNotExist();
        assertThatThrownBy(server::accept).isInstanceOf(IllegalStateException.class);
        server.close();
    }

    @Test
    void aPathTooLongForSunPathIsRefusedClearly() {
        Path longPath = dir.resolve("x".repeat(120) + ".sock");
        assertThatThrownBy(() -> UnixServerSocket.bind(longPath, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("107");
        assertThatThrownBy(() -> UnixSocket.connect(longPath)).isInstanceOf(IllegalArgumentException.class);
        assertThat(longPath).doesNotExist();
    }

    @Test
    void aStaleSocketFileIsReplaced() throws Exception {
        Path path = dir.resolve("stale.sock");
        // The JDK's channel leaves its socket file behind on close: a server that went away.
        try (ServerSocketChannel gone = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            gone.bind(UnixDomainSocketAddress.of(path));
        }
        assertThat(path).exists();
        try (UnixServerSocket server = UnixServerSocket.bind(path, 1); UnixSocket client = UnixSocket.connect(path);
             UnixSocket peer = server.accept()) {
            assertThat(peer.peerPid()).isEqualTo((int) ProcessHandle.current().pid());
        }
    }

    @Test
    void aLiveServerKeepsItsPath() throws Exception {
        Path path = dir.resolve("live.sock");
        try (UnixServerSocket first = UnixServerSocket.bind(path, 4)) {
            assertThatThrownBy(() -> UnixServerSocket.bind(path, 1))
                    .isInstanceOfSatisfying(NativeException.class, e -> assertThat(e.errnoName()).isEqualTo("EADDRINUSE"));
            first.accept().close(); // the probe's connection
            try (UnixSocket client = UnixSocket.connect(path); UnixSocket peer = first.accept()) {
                assertThat(peer.fd().isOpen()).isTrue();
            }
        }
    }

    @Test
    void aFileThatIsNotASocketIsLeftAlone() throws Exception {
        Path path = dir.resolve("data.txt");
        Files.writeString(path, "keep me");
        assertThatThrownBy(() -> UnixServerSocket.bind(path, 1))
                .isInstanceOfSatisfying(NativeException.class, e -> {
                    assertThat(e.call()).isEqualTo("bind");
                    assertThat(e.errnoName()).isEqualTo("EADDRINUSE");
                });
        assertThat(Files.readString(path)).isEqualTo("keep me");
    }

    @Test
    void connectingToNothingFailsWithTheErrno() {
        assertThatThrownBy(() -> UnixSocket.connect(dir.resolve("nobody.sock")))
                .isInstanceOfSatisfying(NativeException.class, e -> {
                    assertThat(e.call()).isEqualTo("connect");
                    assertThat(e.errnoName()).isEqualTo("ENOENT");
                });
    }

    @Test
    void closeLeavesASuccessorsSocketFileAlone() throws Exception {
        Path path = dir.resolve("successor.sock");
        UnixServerSocket first = UnixServerSocket.bind(path, 1);
        Files.delete(path); // someone removed it...
        try (UnixServerSocket second = UnixServerSocket.bind(path, 1)) { // ...and bound anew
            first.close();
            assertThat(path).exists();
            try (UnixSocket client = UnixSocket.connect(path); UnixSocket peer = second.accept()) {
                assertThat(peer.fd().isOpen()).isTrue();
            }
        }
    }
}
