package org.jvirtio.transport.vhostuser;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.jvirtio.api.DeviceStatus;
import org.jvirtio.nativeio.FileSeals;
import org.jvirtio.nativeio.Memfd;
import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.nativeio.internal.LibC;
import org.jvirtio.transport.vhostuser.internal.Message;
import org.jvirtio.transport.vhostuser.internal.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A front end that truncates the memfd of its guest memory under the back end and kicks: the device of
 * that connection needs a reset (with a logged reason), the connection and its threads live on, the JVM
 * survives, and another back end in the same JVM keeps moving traffic. Before and after the JIT compiled
 * the data path.
 */
class TruncatedGuestMemoryTest {
    private static final String UNBACKED = "is no longer backed (was its file truncated?)";

    @TempDir
    Path dir;
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            log.add(new java.util.logging.SimpleFormatter().formatMessage(record));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private Logger jul;
    private VhostUserBackend victim;
    private VhostUserBackend bystander;
    private VhostUserFrontend other;

    @BeforeEach
    void start() throws IOException {
        jul = Logger.getLogger("org.jvirtio.transport.vhostuser");
        jul.addHandler(capture);
        victim = VhostUserBackend.start(new EchoDevice(2), dir.resolve("victim.sock"));
        bystander = VhostUserBackend.start(new EchoDevice(2), dir.resolve("bystander.sock"));
        other = VhostUserFrontend.connect(dir.resolve("bystander.sock"), new VhostUserFrontend.Options());
    }

    @AfterEach
    void stop() {
        other.close();
        victim.close();
        bystander.close();
        jul.removeHandler(capture);
    }

    @Test
    void truncationBeforeTheJitWarmedUp() throws Exception {
        truncateAndKick(100);
    }

    @Test
    void truncationAfterTheJitWarmedUp() throws Exception {
        truncateAndKick(200_000);
    }

    private void truncateAndKick(int chainsBefore) throws Exception {
        Traffic bystanderTraffic = new Traffic(other, 0);
        bystanderTraffic.run(100);
        try (VhostUserFrontend fe = VhostUserFrontend.connect(dir.resolve("victim.sock"), new VhostUserFrontend.Options())) {
            assertThat(log).anyMatch(line -> line.contains("not sealed against shrinking (seals: SEAL)"));
            new Traffic(fe, 0).run(chainsBefore);
            assertThat(fe.status() & DeviceStatus.DEVICE_NEEDS_RESET).isZero();

            assertThat(LibC.ftruncate(fe.memoryFd().value(), 0)).isZero();
            fe.kick(0); // the back end reads the avail index in a page that is gone
            long deadline = System.nanoTime() + 10_000_000_000L;
            while ((fe.status() & DeviceStatus.DEVICE_NEEDS_RESET) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(fe.status() & DeviceStatus.DEVICE_NEEDS_RESET).isEqualTo(DeviceStatus.DEVICE_NEEDS_RESET);
            // the fault may be reported asynchronously (compiled code): wait for the reason too
            while (log.stream().noneMatch(line -> line.contains(UNBACKED)) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(log).anyMatch(line -> line.contains("device needs reset") && line.contains(UNBACKED)
                    && line.contains("region[gpa 0x"));
            assertThat(victim.isConnected()).isTrue();
            assertThat(fe.queueNum()).isEqualTo(2); // the connection thread still answers
            assertThat(threadsNamed("vhost-user-queue", "victim")).isNotEmpty().allMatch(Thread::isAlive);
            bystanderTraffic.run(2_000);
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (victim.isConnected() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        // the victim's server serves the next front end, on memory that stays put
        try (VhostUserFrontend next = VhostUserFrontend.connect(dir.resolve("victim.sock"), new VhostUserFrontend.Options())) {
            new Traffic(next, 0).run(100);
        }
        bystanderTraffic.run(100);
    }

    @Test
    void aSealedMemfdIsMappedWithoutAWordAndAFileWithOne() throws Exception {
        long size = 1 << 20;
        Path file = dir.resolve("guest.ram");
        Files.write(file, new byte[(int) size]);
        try (RawPeer peer = new RawPeer(dir.resolve("victim.sock")).handshake();
             NativeFd sealed = Memfd.createSealable("sealed", size);
             RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw");
             NativeFd plainFile = NativeFd.adopt(LibC.fcntl(fdOf(file), LibC.F_DUPFD_CLOEXEC, 0))) {
            FileSeals.add(sealed, FileSeals.SHRINK | FileSeals.GROW | FileSeals.SEAL);
            assertThat(peer.sendAcked(Request.SET_MEM_TABLE.code(), memTable(0x100000, size, 0x7f0000000000L), sealed))
                    .isZero();
            assertThat(log).noneMatch(line -> line.contains("victim") && line.contains("not sealed"));
            assertThat(peer.sendAcked(Request.SET_MEM_TABLE.code(), memTable(0x100000, size, 0x7f0000000000L), plainFile))
                    .isZero(); // memory-backend-file: cannot be sealed, accepted
            assertThat(log).anyMatch(line -> line.contains("victim") && line.contains("not sealed against shrinking (seals: "));
        }
    }

    private static ByteBuffer memTable(long gpa, long size, long uva) {
        ByteBuffer b = Message.allocate(8 + 32);
        b.putInt(0, 1).putLong(8, gpa).putLong(16, size).putLong(24, uva).putLong(32, 0);
        return b;
    }

    private static List<Thread> threadsNamed(String prefix, String part) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(prefix) && t.getName().contains(part)).toList();
    }

    /** The descriptor number the JDK holds for {@code file} (it hides it), found in /proc/self/fd. */
    private static int fdOf(Path file) throws IOException {
        Path real = file.toRealPath();
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).equals(real)) {
                        return Integer.parseInt(fd.getFileName().toString());
                    }
                } catch (IOException closedMeanwhile) {
                    // the listing's own descriptor
                }
            }
        }
        throw new IllegalStateException("no descriptor open on " + real);
    }
}
