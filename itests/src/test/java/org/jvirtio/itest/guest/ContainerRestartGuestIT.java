package org.jvirtio.itest.guest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Restart of the whole container under a real guest: {@code java -jar distribution/target/jvirtio.jar}
 * (Felix, every bundle, the device from {@code --device}) serves blk0 on a file image to a Linux guest
 * (QEMU TCG, {@code -chardev socket,...,reconnect=1}) that writes and verifies continuously. The test
 * ends the container several times (3; -Djvirtio.crash.kills=N) while requests are in flight (it holds
 * the container with SIGSTOP until QEMU's in-flight area shows some), by SIGKILL (nothing runs down: the
 * next container replaces the stale socket and resubmits the requests from QEMU's in-flight area) or by
 * SIGTERM (the framework stops every device, which finishes what it holds, and exits with 143), and
 * starts it again with the same command line. QEMU reconnects, and the guest sees no I/O error and reads
 * back every block it wrote; the image is checked byte for byte. The workload and the checks are
 * {@link VhostUserBlkCrashIT}'s.
 */
class ContainerRestartGuestIT {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0} ring, {1}")
    @CsvSource({"split, SIGKILL", "split, SIGTERM", "packed, SIGKILL"})
    void restartContainerDuringWrites(String ring, String signal) throws Exception {
        GuestKit kit = GuestKit.get();
        String name = "container-restart-" + ring + "-" + signal.toLowerCase(java.util.Locale.ROOT);
        Path dir = VhostUserBlkCrashIT.runDir(name);
        Path run = Files.createDirectories(tmp.resolve("run"));
        Path img = tmp.resolve("disk.img");
        Path sock = run.resolve("blk0.sock");
        BackEndProcess container = BackEndProcess.container(dir, List.of(
                "--run-dir", run.toString(),
                "--conf-dir", Files.createDirectories(tmp.resolve("conf")).toString(),
                "--deploy-dir", Files.createDirectories(tmp.resolve("deploy")).toString(),
                "--device", VhostUserBlkCrashIT.device(sock, img)));
        VhostUserBlkCrashIT.restartsUnderWrites(kit, name, dir, ring.equals("packed"), container,
                signal.equals("SIGTERM"), img, sock);
    }
}
