package org.jvirtio.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher in this JVM: real sockets, real images, the Java front end as the guest. */
class LauncherTest {
    @TempDir
    Path dir;
    final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    final PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed * 31 + i * 7);
        }
        return b;
    }

    @Test
    void createsASparseImageServesItAndFlushesOnClose() throws Exception {
        Path image = dir.resolve("disk.img");
        Path socket = dir.resolve("blk0.sock");
        Launcher.Running running = Launcher.launch(List.of("--device",
                "blk,id=blk0,socket=" + socket + ",backend=file,path=" + image + ",size=8M,queues=2"), out);
        try {
            assertThat(Files.size(image)).isEqualTo(8L << 20);
            assertThat(printed.toString(StandardCharsets.UTF_8)).contains(
                    "jvirtio: serving blk0: file " + image + ", 8388608 bytes (16384 sectors), 2 queues, read-write",
                    "-object memory-backend-memfd,id=mem,size=1G,share=on -numa node,memdev=mem -chardev socket,id=c0,path="
                            + socket + " -device vhost-user-blk-pci,chardev=c0,num-queues=2");
            byte[] block = pattern(4096, 5);
            try (BlkClient blk = new BlkClient(socket)) {
                assertThat(blk.capacity()).isEqualTo(16384);
                assertThat(blk.write(8, block)).isZero();
                byte[] back = new byte[4096];
                assertThat(blk.read(8, back)).isZero();
                assertThat(back).isEqualTo(block);
                assertThat(blk.flush()).isZero();
            }
            running.close();
            assertThat(socket).doesNotExist();
            byte[] onDisk = Files.readAllBytes(image);
            assertThat(Arrays.copyOfRange(onDisk, 8 * 512, 8 * 512 + 4096)).isEqualTo(block);
        } finally {
            running.close();
        }
    }

    @Test
    void servesAnExistingImageReadOnlyAndMemoryAndNullDisks() throws Exception {
        Path image = dir.resolve("ro.img");
        byte[] content = pattern(1 << 20, 9);
        Files.write(image, content);
        Path ro = dir.resolve("ro.sock");
        Path mem = dir.resolve("mem.sock");
        Path nul = dir.resolve("null.sock");
        try (Launcher.Running running = Launcher.launch(List.of(
                "--device", "blk,id=ro,socket=" + ro + ",path=" + image + ",readonly=on",
                "--device", "blk,id=mem,socket=" + mem + ",backend=memory,size=1M",
                "--device", "blk,id=nul,socket=" + nul + ",backend=null,size=1G"), out)) {
            assertThat(running.specs()).hasSize(3);
            assertThat(printed.toString(StandardCharsets.UTF_8)).contains("ro: file " + image
                    + ", 1048576 bytes (2048 sectors), 1 queue, read-only", "mem: memory, 1048576 bytes",
                    "nul: null, 1073741824 bytes", "chardev=c2");
            byte[] back = new byte[4096];
            try (BlkClient blk = new BlkClient(ro)) {
                assertThat(blk.read(2, back)).isZero();
                assertThat(back).isEqualTo(Arrays.copyOfRange(content, 1024, 1024 + 4096));
                assertThat(blk.write(2, new byte[4096])).as("IOERR on a read-only disk").isEqualTo(1);
            }
            try (BlkClient blk = new BlkClient(mem)) {
                assertThat(blk.write(0, pattern(4096, 1))).isZero();
                assertThat(blk.read(0, back)).isZero();
                assertThat(back).isEqualTo(pattern(4096, 1));
            }
            try (BlkClient blk = new BlkClient(nul)) {
                assertThat(blk.capacity()).isEqualTo(2L << 20);
                assertThat(blk.write(0, pattern(4096, 1))).isZero();
            }
        }
        assertThat(Files.readAllBytes(image)).isEqualTo(content);
    }

    /** client=on: the launcher starts before "QEMU" listens, connects when it does, and again after it left. */
    @Test
    void clientModeConnectsToTheListeningFrontEndAndReconnects() throws Exception {
        Path socket = dir.resolve("qemu.sock");
        Path image = dir.resolve("client.img");
        try (Launcher.Running running = Launcher.launch(List.of("--device",
                "blk,id=cli,socket=" + socket + ",path=" + image + ",size=1M,client=on,reconnect=1"), out)) {
            assertThat(printed.toString(StandardCharsets.UTF_8)).contains(
                    "cli: file " + image + ", 1048576 bytes (2048 sectors), 1 queue, read-write, connecting to QEMU's"
                            + " socket " + socket + " (every 1 s until it listens)",
                    "-chardev socket,id=c0,path=" + socket + ",server=on,wait=off -device vhost-user-blk-pci,chardev=c0");
            assertThat(socket).doesNotExist(); // not jvirtio's to create
            byte[] block = pattern(4096, 3);
            try (BlkClient blk = BlkClient.listen(socket, Duration.ofSeconds(10))) {
                assertThat(blk.capacity()).isEqualTo(2048);
                assertThat(blk.write(16, block)).isZero();
            }
            try (BlkClient blk = BlkClient.listen(socket, Duration.ofSeconds(10))) {
                byte[] back = new byte[4096];
                assertThat(blk.read(16, back)).isZero();
                assertThat(back).isEqualTo(block);
            }
        }
        assertThat(Arrays.copyOfRange(Files.readAllBytes(image), 16 * 512, 16 * 512 + 4096))
                .isEqualTo(pattern(4096, 3));
    }

    @Test
    void imageProblemsAreUsageErrorsAndNothingKeepsRunning() throws Exception {
        Path missing = dir.resolve("missing.img");
        Path first = dir.resolve("first.sock");
        assertThatThrownBy(() -> Launcher.launch(List.of("--device", "blk,socket=" + first + ",backend=null,size=1M",
                "--device", "blk,socket=" + dir.resolve("b.sock") + ",path=" + missing), out))
                .isInstanceOf(UsageException.class)
                .hasMessage("--device blk id=blk1: " + missing + " does not exist (give size=BYTES to create it)");
        assertThat(first).as("the first device was closed again").doesNotExist();
        assertThatThrownBy(() -> Launcher.launch(List.of("--device", "blk,socket=" + first + ",path=" + missing
                + ",size=1M,readonly=on"), out)).isInstanceOf(UsageException.class)
                .hasMessageContaining("a read-only image is not created");
        assertThatThrownBy(() -> Launcher.launch(List.of("--device", "blk,socket=" + first + ",path=" + dir), out))
                .isInstanceOf(UsageException.class).hasMessageContaining("is not a regular file");
        Path empty = Files.createFile(dir.resolve("empty.img"));
        assertThatThrownBy(() -> Launcher.launch(List.of("--device", "blk,socket=" + first + ",path=" + empty), out))
                .isInstanceOf(UsageException.class).hasMessageContaining("smaller than one sector");
        assertThat(missing).doesNotExist();
    }

    @Test
    void aSocketThatCannotBeBoundIsAStartFailure() throws Exception {
        Path notADir = Files.createFile(dir.resolve("file"));
        assertThatThrownBy(() -> Launcher.launch(List.of("--device", "blk,socket=" + notADir.resolve("s.sock")
                + ",backend=null,size=1M"), out)).isInstanceOf(IOException.class).hasMessageStartingWith(
                "cannot start blk0: ");
    }

    @Test
    void helpPrintsTheUsage() throws Exception {
        assertThat(Launcher.launch(List.of("--help"), out)).isNull();
        assertThat(printed.toString(StandardCharsets.UTF_8)).startsWith("usage: java -jar jvirtio-launcher.jar --device blk,");
    }
}
