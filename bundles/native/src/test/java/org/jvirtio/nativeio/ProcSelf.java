package org.jvirtio.nativeio;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** What the kernel says this process holds: open descriptors and mappings. */
final class ProcSelf {

    private ProcSelf() {
    }

    static long openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long mappings() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The size of the file behind a descriptor, as the kernel sees it. */
    static long fileSize(NativeFd fd) throws IOException {
        return Files.size(Path.of("/proc/self/fd/" + fd.value()));
    }

    /** Where a descriptor points, e.g. {@code "/memfd:guest (deleted)"} or {@code "anon_inode:[eventfd]"}. */
    static String target(NativeFd fd) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd.value())).toString();
    }
}
