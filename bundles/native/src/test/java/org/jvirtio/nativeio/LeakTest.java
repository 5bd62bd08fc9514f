package org.jvirtio.nativeio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thousand create/use/close cycles of every resource type leave the process with exactly the
 * descriptors it had, and without a thousand extra mappings: nothing leaks, nothing is closed twice.
 */
@Timeout(120)
class LeakTest {

    private static final int CYCLES = 1000;
    private static final long PAGE = MappedMemory.pageSize();

    @TempDir
    Path dir;

    @FunctionalInterface
    interface Cycle {
        void run(int i) throws Exception;
    }

    /** What each resource shows as in /proc/self/fd. */
    private static final String MEMFD = "/memfd:";
    private static final String EVENTFD = "anon_inode:[eventfd]";
    private static final String EPOLL = "anon_inode:[eventpoll]";
    private static final String SOCKET = "socket:[";
    private static final String TUN = "/dev/net/tun";

    /**
     * Counts only descriptors of the kinds the cycle creates: the JVM opens and closes files (and
     * once in a while a socket) of its own at any time, which would make a count of all of them flaky.
     */
    private static void assertNoLeak(Cycle cycle, String... kinds) throws Exception {
        cycle.run(-1); // warm up: class loading, JNA, per-thread scratch buffers
        long fds = ProcSelf.openFds(kinds);
        long maps = ProcSelf.mappings();
        for (int i = 0; i < CYCLES; i++) {
            cycle.run(i);
        }
        assertThat(ProcSelf.openFds(kinds)).isEqualTo(fds);
        // The JVM maps and unmaps on its own, so allow noise; a leak would add about a thousand.
        assertThat(ProcSelf.mappings()).isLessThan(maps + 100);
    }

    @Test
    void tapInterfaces() throws Exception {
        String prefix = TapSupport.uniqueName("jvl").substring(0, 10) + "%d";
        TapSupport.open(prefix, true).close(); // skips (fails in CI) where TAP is unavailable
        ByteBuffer buffer = ByteBuffer.allocateDirect(2048);
        ByteBuffer[] buffers = {buffer};
        assertNoLeak(i -> {
            try (Tap tap = Tap.open(prefix, true); Epoll epoll = Epoll.create()) {
                tap.setOffload(Tap.OFFLOAD_CSUM);
                epoll.add(tap.fd(), Epoll.IN, i);
                buffer.clear();
                tap.read(buffer);
                tap.read(buffers, 0, 1);
                epoll.remove(tap.fd());
                tap.close(); // and again by try-with-resources
            }
        }, TUN, EPOLL, EVENTFD);
    }

    @Test
    void memfds() throws Exception {
        assertNoLeak(i -> Memfd.create("leak", PAGE).close(), MEMFD);
    }

    @Test
    void mappingsOfMemfds() throws Exception {
        assertNoLeak(i -> {
            try (NativeFd fd = Memfd.create("leak", PAGE); MappedMemory memory = MappedMemory.map(fd, 0, PAGE, true)) {
                memory.slice(0, 8).putLong(0, i);
                memory.close(); // and again by try-with-resources
            }
        }, MEMFD);
    }

    @Test
    void anonymousMappings() throws Exception {
        assertNoLeak(i -> {
            try (MappedMemory memory = MappedMemory.anonymous(2 * PAGE)) {
                memory.slice(PAGE, 8).putLong(0, i);
            }
        }, MEMFD, EVENTFD, EPOLL);
    }

    @Test
    void eventfdsAndDuplicates() throws Exception {
        assertNoLeak(i -> {
            try (EventFd event = EventFd.create(true); EventFd copy = EventFd.adopt(event.fd().duplicate())) {
                copy.signal();
                event.read();
            }
        }, EVENTFD);
    }

    @Test
    void epollInstances() throws Exception {
        int[] tags = new int[4];
        assertNoLeak(i -> {
            try (Epoll epoll = Epoll.create(); EventFd event = EventFd.create(true)) {
                epoll.add(event.fd(), Epoll.IN, i);
                event.signal();
                epoll.wakeup();
                epoll.wait(tags, 0);
                epoll.remove(event.fd());
            }
        }, EPOLL, EVENTFD);
    }

    @Test
    void socketPairsPassingDescriptors() throws Exception {
        assertNoLeak(i -> {
            UnixSocket[] pair = UnixSocket.pair();
            try (UnixSocket a = pair[0]; UnixSocket b = pair[1]; EventFd event = EventFd.create(true)) {
                a.send(ByteBuffer.wrap(new byte[] {1, 2}), event.fd(), event.fd());
                List<NativeFd> fds = new ArrayList<>();
                try {
                    b.receiveFully(ByteBuffer.allocate(2), fds, 2);
                } finally {
                    fds.forEach(NativeFd::close);
                    fds.clear();
                }
                // and a truncated one, whose descriptors the receiver must close
                a.send(ByteBuffer.wrap(new byte[] {3}), event.fd(), event.fd());
                assertThatThrownBy(() -> b.receive(ByteBuffer.allocate(1), fds, 1)).hasMessageContaining("truncated");
                assertThat(fds).isEmpty();
            }
        }, SOCKET, MEMFD, EVENTFD);
    }

    @Test
    void serverSocketsAndConnections() throws Exception {
        Path path = dir.resolve("leak.sock");
        assertNoLeak(i -> {
            try (UnixServerSocket server = UnixServerSocket.bind(path, 1);
                 UnixSocket client = UnixSocket.connect(path);
                 UnixSocket peer = server.accept()) {
                client.send(ByteBuffer.wrap(new byte[] {1}));
                peer.receiveFully(ByteBuffer.allocate(1), new ArrayList<>(), 0);
            }
        }, SOCKET);
    }
}
