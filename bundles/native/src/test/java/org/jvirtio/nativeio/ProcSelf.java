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

    /** Descriptors open now whose target starts with one of {@code kinds} (all when none given). */
    static long openFds(String... kinds) {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> kinds.length == 0 || isOfKind(fd, kinds)).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean isOfKind(Path fd, String... kinds) {
        try {
            String target = Files.readSymbolicLink(fd).toString();
            for (String kind : kinds) {
                if (target.startsWith(kind)) {
                    return true;
                }
            }
            return false;
        } catch (IOException closedMeanwhile) {
            return false;
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

    /**
     * Bytes of memory the file behind a descriptor holds ({@code st_blocks}, as {@code stat -L} reports
     * it through /proc): what a hole punched in a memfd gives back, unlike its size, which stays.
     */
    static long allocatedBytes(NativeFd fd) throws IOException, InterruptedException {
        Process stat = new ProcessBuilder("stat", "-L", "--format=%b %B",
                "/proc/" + ProcessHandle.current().pid() + "/fd/" + fd.value()).redirectErrorStream(true).start();
        String out = new String(stat.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim();
        if (stat.waitFor() != 0) {
            throw new IOException("stat failed: " + out);
        }
        String[] blocksAndUnit = out.split(" ");
        return Long.parseLong(blocksAndUnit[0]) * Long.parseLong(blocksAndUnit[1]);
    }

    /** Where a descriptor points, e.g. {@code "/memfd:guest (deleted)"} or {@code "anon_inode:[eventfd]"}. */
    static String target(NativeFd fd) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd.value())).toString();
    }
}
