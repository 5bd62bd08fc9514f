package org.jvirtio.transport.pci.proxy.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real QEMU (pc machine, TCG) started paused with QMP and qtest sockets and guest RAM in a shared
 * memfd, as the proxy needs it; no guest. Killed on close.
 */
final class PausedQemu implements AutoCloseable {
    static final String BINARY = "qemu-system-x86_64";

    final Path dir;
    final Path qmp;
    final Path qtest;
    private final Process process;

    PausedQemu(int memoryMiB) throws IOException, InterruptedException {
        dir = Files.createTempDirectory("pci-proxy-qemu");
        qmp = dir.resolve("qmp.sock");
        qtest = dir.resolve("qtest.sock");
        List<String> cmd = new ArrayList<>(List.of(BINARY, "-accel", "tcg", "-S", "-m", memoryMiB + "M",
                "-object", "memory-backend-memfd,id=mem,size=" + memoryMiB + "M,share=on", "-numa", "node,memdev=mem",
                "-nodefaults", "-display", "none", "-serial", "none",
                "-qmp", "unix:" + qmp + ",server=on,wait=off",
                "-qtest", "unix:" + qtest + ",server=on,wait=off", "-qtest-log", "none"));
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("qemu.log").toFile()).start();
        // Waiting for QEMU to create its sockets: a start-up condition, not an assertion on speed.
        for (int i = 0; i < 1200 && !(Files.exists(qmp) && Files.exists(qtest)); i++) {
            if (!process.isAlive()) {
                throw new IOException("QEMU exited: " + Files.readString(dir.resolve("qemu.log")));
            }
            Thread.sleep(50);
        }
        if (!Files.exists(qmp)) {
            close();
            throw new IOException("QEMU created no QMP socket within 60 s");
        }
    }

    static boolean available() {
        try {
            Process p = new ProcessBuilder(BINARY, "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    String log() throws IOException {
        return Files.readString(dir.resolve("qemu.log"));
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }
}
