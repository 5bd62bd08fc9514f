package org.jvirtio.transport.vhostuser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jvirtio.nativeio.UnixServerSocket;
import org.jvirtio.nativeio.UnixSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Client mode: the back end connects out to a front end that listens (QEMU {@code server=on}), played
 * by {@link VhostUserFrontend#accept}; it waits for the socket, reconnects after the front end leaves,
 * and closes cleanly in every state. A hostile listener cannot make it spin.
 */
class ClientModeTest {
    private static final Duration INTERVAL = Duration.ofMillis(200);
    private static final Duration ACCEPT_TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    EchoDevice device;
    Path socket;
    VhostUserBackend backend;

    @BeforeEach
    void setUp() {
        device = new EchoDevice(2);
        socket = dir.resolve("qemu.sock");
    }

    @AfterEach
    void closeAndCheckThreads() throws InterruptedException {
        if (backend != null) {
            backend.close();
        }
        assertNoThreadsLeft();
    }

    @Test
    void waitsForTheFrontEndThenServesAndReconnects() throws Exception {
        backend = VhostUserBackend.connect(device, socket, INTERVAL);
        Thread.sleep(3 * INTERVAL.toMillis()); // a few failed tries: nothing listens yet
        assertThat(backend.isConnected()).isFalse();
        assertThat(backend.connections()).isZero();
        assertThat(backend.socketPath()).isEqualTo(socket);

        try (VhostUserFrontend fe = VhostUserFrontend.accept(socket, new VhostUserFrontend.Options().queues(2, 64),
                ACCEPT_TIMEOUT)) {
            new Traffic(fe, 0).run(100);
            new Traffic(fe, 1).run(50);
            assertThat(backend.isConnected()).isTrue();
        }
        assertThat(Files.exists(socket)).isFalse(); // the front end stopped listening
        awaitDisconnected();
        assertThat(device.resets.get()).isEqualTo(1);

        // the front end listens again: the back end is back within about one interval
        long listening = System.nanoTime();
        try (VhostUserFrontend fe = VhostUserFrontend.accept(socket, new VhostUserFrontend.Options(),
                ACCEPT_TIMEOUT)) {
            long tookMillis = (System.nanoTime() - listening) / 1_000_000;
            assertThat(tookMillis).as("reconnect delay").isLessThan(INTERVAL.toMillis() + 2_000);
            new Traffic(fe, 0).run(100);
        }
        awaitDisconnected();
        assertThat(backend.connections()).isEqualTo(2);
        assertThat(device.activations.get()).isEqualTo(2);
        assertThat(device.served.get()).isEqualTo(250);
    }

    @Test
    void closeWhileWaitingEndsEveryThread() throws Exception {
        backend = VhostUserBackend.connect(device, socket, Duration.ofSeconds(30));
        Thread.sleep(100);
        long start = System.nanoTime();
        backend.close();
        // the pause between tries is 30 s; close() must not wait for it
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
        assertNoThreadsLeft();
        assertThat(device.activations.get()).isZero();
    }

    @Test
    void closeWhileConnectedEndsTheConnection() throws Exception {
        backend = VhostUserBackend.connect(device, socket, INTERVAL);
        try (VhostUserFrontend fe = VhostUserFrontend.accept(socket, new VhostUserFrontend.Options(),
                ACCEPT_TIMEOUT)) {
            new Traffic(fe, 0).run(20);
            backend.close();
            assertNoThreadsLeft();
            assertThat(device.resets.get()).isEqualTo(1);
            assertThatThrownBy(fe::status).isInstanceOf(IOException.class); // the back end hung up
        }
    }

    @Test
    void acceptGivesUpAfterItsTimeout() {
        assertThatThrownBy(() -> VhostUserFrontend.accept(socket, new VhostUserFrontend.Options(),
                Duration.ofMillis(200))).isInstanceOf(SocketTimeoutException.class);
        assertThat(Files.exists(socket)).isFalse();
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> VhostUserBackend.connect(device, socket, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive");
        assertThatThrownBy(() -> VhostUserBackend.connect(device, socket, Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> VhostUserBackend.connect(device, dir.resolve("x".repeat(120)), INTERVAL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("107");
    }

    /**
     * Untrusted peer: a listener that accepts and hangs up at once, again and again. The back end
     * connects at most once per interval (never a hot loop), survives, and then serves a real front end.
     */
    @Test
    void listenerThatHangsUpAtOnceDoesNotMakeItSpin() throws Exception {
        List<Long> accepts = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        long windowMillis = 2_000;
        try (UnixServerSocket hostile = UnixServerSocket.bind(socket, 4)) {
            Thread listener = new Thread(() -> {
                while (!stop.get()) {
                    try (UnixSocket s = hostile.accept()) {
                        synchronized (accepts) {
                            accepts.add(System.nanoTime());
                        }
                    } catch (IOException e) {
                        return; // closed
                    }
                }
            }, "hostile-listener");
            listener.start();
            backend = VhostUserBackend.connect(device, socket, INTERVAL);
            Thread.sleep(windowMillis);
            stop.set(true);
            hostile.close();
            listener.join(5_000);
        }
        List<Long> times;
        synchronized (accepts) {
            times = List.copyOf(accepts);
        }
        // one connection per interval at most: window / interval, plus the first one
        assertThat(times.size()).isBetween(2, (int) (windowMillis / INTERVAL.toMillis()) + 1);
        for (int i = 1; i < times.size(); i++) {
            assertThat(times.get(i) - times.get(i - 1)).as("gap before connection %d", i)
                    .isGreaterThanOrEqualTo(INTERVAL.toNanos());
        }
        awaitDisconnected();
        try (VhostUserFrontend fe = VhostUserFrontend.accept(socket, new VhostUserFrontend.Options(),
                ACCEPT_TIMEOUT)) {
            new Traffic(fe, 0).run(30);
        }
        assertThat(backend.connections()).isEqualTo(times.size() + 1);
    }

    private void awaitDisconnected() throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (backend.isConnected() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(backend.isConnected()).isFalse();
    }

    /** Every thread a back end starts names its socket file: none may survive close(). */
    private void assertNoThreadsLeft() throws InterruptedException {
        String file = socket.getFileName().toString();
        long deadline = System.nanoTime() + 5_000_000_000L;
        List<String> left;
        do {
            left = Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                    .filter(n -> n.startsWith("vhost-user") && n.contains(file)).toList();
            if (left.isEmpty()) {
                return;
            }
            Thread.sleep(10);
        } while (System.nanoTime() < deadline);
        assertThat(left).as("back-end threads after close()").isEmpty();
    }
}
