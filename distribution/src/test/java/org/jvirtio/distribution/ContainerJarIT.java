package org.jvirtio.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code java -jar target/jvirtio.jar} (the container) as a child JVM, the way users run it: devices from
 * {@code --device} and from a file in {@code conf/}; the file edited (its device moves to another
 * image under a connected front end); a new build of the blk bundle dropped into {@code deploy/}
 * (updated in place, not installed twice, the front end still served); stdin closed (the container
 * runs on); SIGTERM (clean exit, sockets removed, data on disk).
 */
class ContainerJarIT {
    @TempDir
    Path dir;
    private Process process;
    private final BlockingQueue<String> output = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();

    @AfterEach
    void kill() {
        if (process != null) {
            process.destroyForcibly();
        }
    }

    private static String property(String name) {
        String value = System.getProperty(name);
        Assumptions.assumeTrue(value != null, "runs under failsafe, after the jar is packaged");
        return value;
    }

    private Process start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", property("jvirtio.jar")));
        cmd.addAll(Arrays.asList(args));
        process = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null;) {
                    output.add(line);
                }
            } catch (IOException e) {
                output.add("(output ended: " + e + ")");
            }
        }, "container-output");
        reader.setDaemon(true);
        reader.start();
        return process;
    }

    /** Waits for a line of the container's output that {@code wanted} accepts. */
    private String await(Predicate<String> wanted, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            String line = output.poll(100, TimeUnit.MILLISECONDS);
            if (line != null) {
                seen.add(line);
                if (wanted.test(line)) {
                    return line;
                }
            }
        }
        throw new AssertionError("no " + what + " in the container's output:\n" + String.join("\n", seen));
    }

    private static void awaitFile(Path path) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(path) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(path).exists();
    }

    @Test
    void confFilesDeployedBundlesAndSigterm() throws Exception {
        Path a = dir.resolve("a.img");
        Path b = dir.resolve("b.img");
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Path instance = conf.resolve("org.jvirtio.instance-disk1.cfg");
        Files.writeString(instance, "type=blk\nid=disk1\nsocket=" + dir.resolve("disk1.sock") + "\npath=" + a
                + "\nsize=1M\n");
        Path mem = dir.resolve("mem.sock");
        Process p = start("--device", "blk,id=mem0,socket=" + mem + ",backend=memory,size=1M");
        await(l -> l.contains("-device vhost-user-blk-pci,id=mem0,chardev=c-mem0"), "QEMU options");
        awaitFile(mem);
        awaitFile(dir.resolve("disk1.sock"));
        byte[] block = new byte[4096];
        Arrays.fill(block, (byte) 0x5A);
        try (BlkClient memory = new BlkClient(mem); BlkClient disk = new BlkClient(dir.resolve("disk1.sock"))) {
            assertThat(memory.write(8, block)).isZero();
            assertThat(disk.write(8, block)).isZero();
            // the file moves the device to a copy of its image: the front end stays connected
            Files.copy(a, b);
            Files.writeString(instance, Files.readString(instance).replace("path=" + a, "path=" + b));
            await(l -> l.contains("device disk1:") && l.contains("org.jvirtio.blk.backend.file"), "the edit");
            byte[] other = new byte[4096];
            Arrays.fill(other, (byte) 0x33);
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!Arrays.equals(sector(b, 16), other) && System.nanoTime() < deadline) {
                assertThat(disk.write(16, other)).isZero(); // reaches b once the device runs over it
                Thread.sleep(50);
            }
            assertThat(Arrays.equals(sector(b, 16), other)).as("writes reach the edited path").isTrue();
            assertThat(Arrays.equals(sector(b, 8), block)).as("the copy's data is served").isTrue();
            // a new build of the blk bundle: updated in place while both front ends stay connected
            Files.copy(Path.of(property("jvirtio.bundles.dir"), "jvirtio-device-blk.jar"),
                    dir.resolve("deploy").resolve("jvirtio-device-blk-rebuilt.jar"), StandardCopyOption.REPLACE_EXISTING);
            await(l -> l.contains("device replaced") || l.contains("now served by"), "the device bundle update");
            byte[] back = new byte[4096];
            assertThat(memory.read(8, back)).isZero();
            assertThat(Arrays.equals(back, block)).as("memory disk after the update").isTrue();
            assertThat(disk.read(16, back)).isZero();
            assertThat(Arrays.equals(back, other)).as("file disk after the update").isTrue();
        }
        // the shell: exactly one blk bundle, and the framework survives stdin closing
        try (OutputStream stdin = p.getOutputStream()) {
            stdin.write("lb -s jvirtio\n".getBytes(StandardCharsets.UTF_8));
            stdin.flush();
            await(l -> l.contains("org.jvirtio.jvirtio-device-blk"), "lb output");
            stdin.write("virtio:list\n".getBytes(StandardCharsets.UTF_8));
            stdin.flush();
            await(l -> l.startsWith("disk1 ") && l.contains("blk") && l.contains("vhost-user"), "virtio:list");
        }
        Thread.sleep(1000);
        assertThat(p.isAlive()).as("running after stdin closed").isTrue();
        assertThat(seen.stream().filter(l -> l.contains("org.jvirtio.jvirtio-device-blk")).count()).isEqualTo(1);
        p.toHandle().destroy(); // SIGTERM
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
        assertThat(p.exitValue()).isEqualTo(143);
        assertThat(mem).doesNotExist();
        assertThat(dir.resolve("disk1.sock")).doesNotExist();
    }

    /** The plain launcher's command lines (issue 4's README) work unchanged with the container. */
    @Test
    void theLauncherCommandLinesServe() throws Exception {
        Path disk = dir.resolve("disk.sock");
        Path a = dir.resolve("a.sock");
        Path b = dir.resolve("b.sock");
        Path sink = dir.resolve("sink.sock");
        start("--no-shell", "--device", "blk,socket=" + disk + ",path=" + dir.resolve("disk.img") + ",size=1M,queues=2",
                "--device", "net,id=net0,socket=" + a + ",backend=switch,switch=lan0,mac=52:54:00:00:00:0a,mtu=9000,"
                        + "packed=off,mrg_rxbuf=off",
                "--device", "net,id=net1,socket=" + b + ",switch=lan0,mac=52:54:00:00:00:0b",
                "--device", "net,socket=" + sink + ",backend=sink");
        await(l -> l.equals("jvirtio: blk device blk0 on " + disk), "the blk device without id");
        await(l -> l.equals("jvirtio: net device net3 on " + sink), "the sink without id");
        await(l -> l.contains("-device vhost-user-blk-pci,id=blk0,chardev=c-blk0,num-queues=2"), "blk's QEMU options");
        await(l -> l.contains("-netdev vhost-user,id=net0,chardev=c-net0 -device virtio-net-pci,netdev=net0,"
                + "mac=52:54:00:00:00:0a,mrg_rxbuf=off,host_mtu=9000"), "net0's QEMU options");
        await(l -> l.contains("-device virtio-net-pci,netdev=net1,mac=52:54:00:00:00:0b,packed=on"), "net1's");
        for (Path socket : List.of(disk, a, b, sink)) {
            awaitFile(socket);
        }
        byte[] block = new byte[4096];
        Arrays.fill(block, (byte) 0x42);
        try (BlkClient blk = new BlkClient(disk); NetClient na = new NetClient(a); NetClient nb = new NetClient(b)) {
            assertThat(blk.write(3, block)).isZero();
            byte[] back = new byte[4096];
            assertThat(blk.read(3, back)).isZero();
            assertThat(back).isEqualTo(block);
            assertThat(na.mac()).containsExactly(0x52, 0x54, 0, 0, 0, 0x0a);
            byte[] frame = new byte[64];
            Arrays.fill(frame, 0, 6, (byte) 0xff);
            System.arraycopy(na.mac(), 0, frame, 6, 6);
            frame[12] = (byte) 0x88;
            frame[13] = (byte) 0xb5; // local experimental ethertype
            Arrays.fill(frame, 14, 64, (byte) 7);
            na.send(frame);
            assertThat(nb.receive(java.time.Duration.ofSeconds(20))).as("net0 -> net1 over switch lan0").isEqualTo(frame);
        }
    }

    @Test
    void aBadDeviceIsAUsageError() throws Exception {
        Process p = start("--device", "blk,id=x,socket=s,backend=tape");
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(2);
        await(l -> l.equals("jvirtio: device x: backend: 'tape' is not one of [file, memory, null]"), "the error");
    }

    private static byte[] sector(Path image, int sector) throws IOException {
        byte[] b = new byte[4096];
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
            f.seek(sector * 512L);
            f.readFully(b);
        }
        return b;
    }
}
