package org.jvirtio.nativeio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.jvirtio.nativeio.internal.LibC;

class FileSealsTest {

    private static final long PAGE = MappedMemory.pageSize();

    @TempDir
    Path dir;

    @Test
    void aSealedMemfdCannotShrinkOrGrow() throws Exception {
        try (NativeFd fd = Memfd.createSealable("sealed", 2 * PAGE)) {
            assertThat(FileSeals.of(fd)).isZero();
            FileSeals.add(fd, FileSeals.SHRINK | FileSeals.GROW | FileSeals.SEAL); // what QEMU's memfd backend does
            int seals = FileSeals.of(fd);
            assertThat(seals).isEqualTo(FileSeals.SHRINK | FileSeals.GROW | FileSeals.SEAL);
            assertThat(FileSeals.preventsShrinking(seals)).isTrue();
            assertThat(FileSeals.describe(seals)).isEqualTo("SEAL|SHRINK|GROW");
            assertThat(LibC.ftruncate(fd.value(), 0)).isEqualTo(-1);
            assertThat(fd.size()).isEqualTo(2 * PAGE);
            assertThatThrownBy(() -> FileSeals.add(fd, FileSeals.WRITE))
                    .isInstanceOf(NativeException.class).hasMessageContaining("EPERM");
        }
    }

    @Test
    void anUnsealedMemfdCanShrink() throws Exception {
        try (NativeFd sealable = Memfd.createSealable("open", PAGE); NativeFd plain = Memfd.create("plain", PAGE)) {
            assertThat(FileSeals.of(sealable)).isZero();
            assertThat(FileSeals.describe(FileSeals.of(sealable))).isEqualTo("none");
            // Without MFD_ALLOW_SEALING a memfd is born with F_SEAL_SEAL: unsealed for ever.
            assertThat(FileSeals.of(plain)).isEqualTo(FileSeals.SEAL);
            assertThat(FileSeals.preventsShrinking(FileSeals.of(plain))).isFalse();
            assertThatThrownBy(() -> FileSeals.add(plain, FileSeals.SHRINK))
                    .isInstanceOf(NativeException.class).hasMessageContaining("EPERM");
            assertThat(LibC.ftruncate(plain.value(), 0)).isZero();
            assertThat(plain.size()).isZero();
        }
    }

    @Test
    void aFileOnADiskFileSystemHasNoSeals() throws Exception {
        Path file = Files.write(dir.resolve("guest.ram"), new byte[3000]);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw");
             NativeFd fd = NativeFd.adopt(LibC.fcntl(fdOf(file), LibC.F_DUPFD_CLOEXEC, 0))) {
            int seals = FileSeals.of(fd);
            if (seals != FileSeals.UNSUPPORTED) {
                // @TempDir on tmpfs: shmem files answer F_SEAL_SEAL, like a memfd that cannot be sealed
                assertThat(seals).isEqualTo(FileSeals.SEAL);
            }
            assertThat(FileSeals.preventsShrinking(seals)).isFalse();
            assertThat(fd.size()).isEqualTo(3000);
        }
    }

    @Test
    void aRegularFileAnswersUnsupported() throws Exception {
        // A file on the root file system, not on tmpfs: the JDK's own release file
        Path release = Path.of(System.getProperty("java.home"), "release");
        try (RandomAccessFile raf = new RandomAccessFile(release.toFile(), "r");
             NativeFd fd = NativeFd.adopt(LibC.fcntl(fdOf(release), LibC.F_DUPFD_CLOEXEC, 0))) {
            assertThat(FileSeals.of(fd)).isEqualTo(FileSeals.UNSUPPORTED);
            assertThat(FileSeals.describe(FileSeals.UNSUPPORTED)).isEqualTo("unsupported");
            assertThat(fd.size()).isEqualTo(Files.size(release));
        }
    }

    @Test
    void sizeFollowsTruncation() throws Exception {
        try (NativeFd fd = Memfd.create("size", 3 * PAGE)) {
            assertThat(fd.size()).isEqualTo(3 * PAGE);
            assertThat(LibC.ftruncate(fd.value(), PAGE)).isZero();
            assertThat(fd.size()).isEqualTo(PAGE);
        }
    }

    @Test
    void aClosedDescriptorIsRefused() throws Exception {
        NativeFd fd = Memfd.create("closed", PAGE);
        fd.close();
        assertThatThrownBy(() -> FileSeals.of(fd)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(fd::size).isInstanceOf(IllegalStateException.class);
    }

    /** The descriptor number the JDK holds for {@code file} (it hides it), found in /proc/self/fd. */
    private static int fdOf(Path file) throws Exception {
        Path real = file.toRealPath();
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).equals(real)) {
                        return Integer.parseInt(fd.getFileName().toString());
                    }
                } catch (java.io.IOException closedMeanwhile) {
                    // the directory stream's own descriptor, or one closed meanwhile
                }
            }
        }
        throw new IllegalStateException("no descriptor open on " + real);
    }
}
