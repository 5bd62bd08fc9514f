package org.jvirtio.nativeio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;

class NativeFdTest {

    @Test
    void closeClosesOnceAndLaterCallsDoNothing() throws Exception {
        long before = ProcSelf.openFds();
        NativeFd fd = Memfd.create("once", 0);
        assertThat(ProcSelf.openFds()).isEqualTo(before + 1);
        fd.close();
        assertThat(ProcSelf.openFds()).isEqualTo(before);
        // A new descriptor likely reuses the number; a second close must not touch it.
        try (NativeFd reuse = Memfd.create("reuse", 0)) {
            fd.close();
            assertThat(reuse.isOpen()).isTrue();
            assertThat(ProcSelf.target(reuse)).contains("memfd:reuse");
        }
    }

    @Test
    void concurrentClosesCloseExactlyOnce() throws Exception {
        for (int round = 0; round < 50; round++) {
            NativeFd fd = Memfd.create("race", 0);
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Thread thread = new Thread(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    fd.close();
                });
                thread.start();
                threads.add(thread);
            }
            try (NativeFd bystander = Memfd.create("bystander", 0)) {
                start.countDown();
                for (Thread thread : threads) {
                    thread.join();
                }
                assertThat(ProcSelf.target(bystander)).contains("memfd:bystander");
            }
            assertThat(fd.isOpen()).isFalse();
        }
    }

    @Test
    void aClosedDescriptorRefusesUse() throws Exception {
        NativeFd fd = Memfd.create("closed", 4096);
        fd.close();
        assertThat(fd.isOpen()).isFalse();
        assertThatThrownBy(fd::value).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(fd::duplicate).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> MappedMemory.map(fd, 0, 4096, true)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> EventFd.adopt(fd).signal()).isInstanceOf(IllegalStateException.class);
        try (Epoll epoll = Epoll.create()) {
            assertThatThrownBy(() -> epoll.add(fd, Epoll.IN, 1)).isInstanceOf(IllegalStateException.class);
        }
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]) {
            assertThatThrownBy(() -> a.send(ByteBuffer.allocate(1), fd)).isInstanceOf(IllegalStateException.class);
        }
        assertThat(fd).hasToString("NativeFd[closed]");
    }

    @Test
    void aDuplicateIsIndependentAndCloseOnExec() throws Exception {
        try (NativeFd original = Memfd.create("dup", 4096); NativeFd copy = original.duplicate()) {
            assertThat(copy.value()).isNotEqualTo(original.value());
            assertThat(ProcSelf.target(copy)).isEqualTo(ProcSelf.target(original));
            assertThat(fdFlags(copy)).contains("flags:\t02");  // O_CLOEXEC (02000000) shows as 02xxxxx
            copy.close();
            assertThat(original.isOpen()).isTrue();
            assertThat(ProcSelf.fileSize(original)).isEqualTo(4096);
        }
    }

    @Test
    void negativeNumbersAreNotDescriptors() {
        assertThatThrownBy(() -> NativeFd.adopt(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void mmapOfABadDescriptorNamesMmapAndEbadf() {
        // Never a valid descriptor (far above any RLIMIT_NOFILE): not closed, there is nothing to close.
        NativeFd bogus = NativeFd.adopt(Integer.MAX_VALUE);
        assertThatThrownBy(() -> MappedMemory.map(bogus, 0, 4096, true))
                .isInstanceOfSatisfying(NativeException.class, e -> {
                    assertThat(e.errno()).isEqualTo(9);
                    assertThat(e.errnoName()).isEqualTo("EBADF");
                    assertThat(e.call()).isEqualTo("mmap");
                    assertThat(e.getMessage())
                            .isEqualTo("mmap(fd=2147483647, offset=0, len=4096): EBADF (Bad file descriptor)");
                });
    }

    @Test
    void messagesFollowCallArgumentsErrnoText() throws Exception {
        try (NativeFd fd = Memfd.create("unaligned", 8192)) {
            assertThatThrownBy(() -> MappedMemory.map(fd, 1, 4096, true))
                    .hasMessage("mmap(fd=" + fd.value() + ", offset=1, len=4096): EINVAL (Invalid argument)");
        }
    }

    private static String fdFlags(NativeFd fd) throws Exception {
        return Files.readString(Path.of("/proc/self/fdinfo/" + fd.value()));
    }
}
