package org.jvirtio.transport.vhostuser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.jvirtio.nativeio.UnixServerSocket;
import org.jvirtio.nativeio.UnixSocket;

/** A back end that accepts and never answers fails the Java front end's request in time; it does not hang it. */
class FrontendReplyTimeoutTest {
    @TempDir
    Path dir;

    @Test
    void silentBackEndFailsTheRequestWithATimeout() throws Exception {
        Path path = dir.resolve("silent.sock");
        AtomicReference<UnixSocket> held = new AtomicReference<>();
        try (UnixServerSocket server = UnixServerSocket.bind(path, 1)) {
            Thread acceptor = new Thread(() -> {
                try {
                    held.set(server.accept()); // accepts, reads nothing, answers nothing
                } catch (Exception e) {
                    // the test fails on its own assertion
                }
            });
            acceptor.start();
            long start = System.nanoTime();
            assertThatThrownBy(() -> VhostUserFrontend.connect(path,
                    new VhostUserFrontend.Options().replyTimeout(Duration.ofMillis(300))))
                    .isInstanceOf(SocketTimeoutException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
            acceptor.join(5_000);
        } finally {
            if (held.get() != null) {
                held.get().close();
            }
        }
    }

    @Test
    void replyTimeoutMustBePositive() {
        assertThatThrownBy(() -> new VhostUserFrontend.Options().replyTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
