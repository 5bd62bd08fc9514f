package org.jvirtio.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code java -jar target/jvirtio-launcher.jar} (the plain launcher) as a child JVM: serve, write and read, SIGTERM; and the exit code 2. */
class LauncherJarIT {
    @TempDir
    Path dir;

    private static Path jar() {
        // failsafe sets the property after package; surefire (-Dtest=org.jvirtio.distribution.**) has no jar yet
        String property = System.getProperty("jvirtio.launcher.jar");
        Assumptions.assumeTrue(property != null, "runs under failsafe, after the jar is packaged");
        Path jar = Path.of(property);
        assertThat(jar).exists();
        return jar;
    }

    private static List<String> java(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar().toString()));
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    @Test
    void servesUntilSigtermThenFlushesAndExits() throws Exception {
        Path image = dir.resolve("disk.img");
        Path socket = dir.resolve("blk0.sock");
        Process p = new ProcessBuilder(java("--device", "blk,id=blk0,socket=" + socket + ",path=" + image
                + ",size=16M")).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try {
            BufferedReader reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null) {
                lines.add(line);
                if (line.startsWith("-object ")) {
                    break;
                }
            }
            assertThat(lines).as("launcher output").anyMatch(l -> l.equals("-object memory-backend-memfd,id=mem,"
                    + "size=1G,share=on -numa node,memdev=mem -chardev socket,id=c0,path=" + socket
                    + " -device vhost-user-blk-pci,chardev=c0,num-queues=1"));
            byte[] block = new byte[4096];
            Arrays.fill(block, (byte) 0x5A);
            try (BlkClient blk = new BlkClient(socket)) {
                assertThat(blk.capacity()).isEqualTo(32768);
                assertThat(blk.write(100, block)).isZero();
                byte[] back = new byte[4096];
                assertThat(blk.read(100, back)).isZero();
                assertThat(back).isEqualTo(block);
            }
            p.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
            StringBuilder rest = new StringBuilder();
            while ((line = reader.readLine()) != null) {
                rest.append(line).append('\n');
            }
            assertThat(p.exitValue()).as("exit after SIGTERM; output: %s", rest).isEqualTo(143);
            assertThat(rest.toString()).doesNotContain("Exception");
            assertThat(socket).doesNotExist();
            byte[] onDisk = Files.readAllBytes(image);
            assertThat(onDisk).hasSize(16 << 20);
            assertThat(Arrays.copyOfRange(onDisk, 100 * 512, 100 * 512 + 4096)).isEqualTo(block);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void badCommandLineIsOneLineAndExitCode2() throws IOException, InterruptedException {
        for (String[] args : List.of(new String[] {"--device", "blk,socket=s,path=i,bogus=1"},
                new String[] {"--device", "blk,socket=s"}, new String[] {"--device", "blk,socket=s,path=i,queues=x"},
                new String[] {"--device", "blk,socket=" + dir.resolve("s") + ",path=" + dir.resolve("nope.img")},
                new String[0])) {
            Process p = new ProcessBuilder(java(args)).start();
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as("exit code for %s (%s)", Arrays.toString(args), err).isEqualTo(2);
            assertThat(err.lines().toList()).as("stderr for %s", Arrays.toString(args)).hasSize(1)
                    .allMatch(l -> l.startsWith("jvirtio: "));
            assertThat(p.getInputStream().readAllBytes()).isEmpty();
        }
    }

    @Test
    void helpExitsZero() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(java("--help")).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).contains("socket=PATH");
    }
}
