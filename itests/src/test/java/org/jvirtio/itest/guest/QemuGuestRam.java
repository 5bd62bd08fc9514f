package org.jvirtio.itest.guest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The host memory behind a running QEMU's guest RAM, {@link Guest}'s {@code memory-backend-memfd}
 * with id {@code mem}: found among QEMU's open descriptors (QEMU names the memfd after the backend
 * type, {@value #MEMFD_NAME}; the guest's is the only one), measured as the
 * blocks the memfd holds ({@code st_blocks}). Only a hole punched in the memfd lowers it (a balloon
 * releasing pages with MADV_REMOVE); pages the guest merely stops using stay.
 */
final class QemuGuestRam {
    private static final String MEMFD_NAME = "/memfd:memory-backend-memfd";

    private final Path descriptor;

    private QemuGuestRam(Path descriptor) {
        this.descriptor = descriptor;
    }

    /** The guest RAM memfd of the QEMU process {@code pid}. */
    static QemuGuestRam of(long pid) throws IOException {
        List<Path> found;
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            found = fds.filter(QemuGuestRam::isGuestRam).toList();
        }
        if (found.size() != 1) {
            throw new IOException("QEMU " + pid + " has " + found.size() + " guest RAM memfd(s): " + found);
        }
        return new QemuGuestRam(found.get(0));
    }

    private static boolean isGuestRam(Path fd) {
        try {
            return Files.readSymbolicLink(fd).toString().startsWith(MEMFD_NAME);
        } catch (IOException e) {
            return false; // closed meanwhile
        }
    }

    /** {@link #allocatedBytes()}, or -1 if QEMU has exited (its descriptors are gone). */
    long allocatedBytesIfRunning() throws IOException, InterruptedException {
        try {
            return allocatedBytes();
        } catch (IOException e) {
            if (Files.exists(descriptor)) {
                throw e;
            }
            return -1;
        }
    }

    /** Bytes of host memory the memfd holds now ({@code st_blocks * block size}). */
    long allocatedBytes() throws IOException, InterruptedException {
        Process stat = new ProcessBuilder("stat", "-L", "--format=%b %B", descriptor.toString())
                .redirectErrorStream(true).start();
        String out = new String(stat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        if (stat.waitFor() != 0) {
            throw new IOException("stat " + descriptor + " failed: " + out);
        }
        String[] blocksAndUnit = out.split(" ");
        return Long.parseLong(blocksAndUnit[0]) * Long.parseLong(blocksAndUnit[1]);
    }
}
