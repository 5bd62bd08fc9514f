package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.check;
import static org.jvirtio.itest.guest.GuestChecks.virtioDevicesLines;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container ({@code java -jar jvirtio.jar}) attaching its devices to a real QEMU over virtio-pci,
 * as a user does it: QEMU boots paused ({@code -S}) with QMP and qtest sockets and shareable memory;
 * the container is started with a console (socket backend), a blk, a net (sink) and a balloon device,
 * all {@code transport=pci} on that QEMU at slots 5 to 8. Its PCI transport components share one QMP
 * connection, attach the four functions and resume the guest once all are attached. In the guest
 * virtio_pci binds each (virtio_console, virtio_blk, virtio_net, virtio_balloon), text the guest writes to {@code /dev/hvc0}
 * arrives on the console's UNIX socket, and the blk device reads back what the guest wrote to it.
 * Errors stay with their device: a slot QEMU refuses and a QMP socket with no QEMU behind it are
 * logged naming the device, and the other devices are attached and the guest resumed.
 */
class ContainerPciGuestIT {
    private static final String GREETING = "hello from hvc0 over jvirtio virtio-pci";

    @TempDir
    Path tmp;

    @Test
    void containerAttachesFourDevicesToAPausedQemu() throws Exception {
        String script = String.join("\n",
                "set -e",
                "waitfor /dev/vda 60",
                "waitfor /dev/hvc0 60",
                virtioDevicesLines(),
                "echo '" + GREETING + "' > /dev/hvc0",
                "dd if=/dev/urandom of=/tmp/p.bin bs=4096 count=16 2>/dev/null",
                "dd if=/tmp/p.bin of=/dev/vda bs=4096 oflag=direct conv=fsync 2>/dev/null",
                "echo \"WROTE $(md5sum < /tmp/p.bin | cut -d' ' -f1)\"",
                "echo \"READ $(dd if=/dev/vda bs=4096 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)\"",
                "");
        Run run = run("container-pci", script, "console,id=con0" + PCI + ",slot=5,backend=socket,path=" + CONSOLE,
                "blk,id=blk0" + PCI + ",slot=6,size=16M",
                "net,id=net0" + PCI + ",slot=7,backend=sink",
                "balloon,id=bal0" + PCI + ",slot=8");
        Guest.Result r = run.guest;
        r.assertSuccess();
        check(r, run.console.contains(GREETING), "the guest's hvc0 text on the console socket: '" + run.console
                + "'\n" + run.log);
        List<String> devices = r.linesStartingWith("VIRTIO-DEV ");
        check(r, devices.size() == 4, "four virtio devices: " + devices);
        check(r, devices.stream().anyMatch(l -> l.contains(" 0x0003 virtio_console ")), "console bound: " + devices);
        check(r, devices.stream().anyMatch(l -> l.contains(" 0x0002 virtio_blk ")), "blk bound: " + devices);
        check(r, devices.stream().anyMatch(l -> l.contains(" 0x0001 virtio_net ")), "net bound: " + devices);
        check(r, devices.stream().anyMatch(l -> l.contains(" 0x0005 virtio_balloon ")), "balloon bound: " + devices);
        check(r, r.value("WROTE").equals(r.value("READ")), "the disk reads back what the guest wrote");
        // the devices attach in the order their components start: any
        List<String> resumes = run.log.lines().filter(l -> l.contains("guest resumed with")).toList();
        check(r, resumes.size() == 1 && resumes.get(0).contains("guest resumed with 4 jvirtio PCI device(s): ")
                && List.of("con0", "blk0", "net0", "bal0").stream().allMatch(resumes.get(0)::contains),
                "the container resumed the guest once, with all four devices: " + resumes);
    }

    /**
     * A device whose slot QEMU refuses (slot 1 is the PIIX3 bridge's) and one whose QEMU is not there
     * are logged naming them; the console of the same container is attached and the guest resumed.
     */
    @Test
    void aRefusedSlotAndAMissingQemuStayWithTheirDevices() throws Exception {
        String script = String.join("\n",
                "set -e",
                "waitfor /dev/hvc0 60",
                virtioDevicesLines(),
                "echo '" + GREETING + "' > /dev/hvc0",
                "");
        Run run = run("container-pci-errors", script,
                "console,id=con0" + PCI + ",slot=5,backend=socket,path=" + CONSOLE,
                "blk,id=taken" + PCI + ",slot=1,size=1M",
                "blk,id=lost,transport=pci,qmp=ABSENT,slot=5,size=1M");
        Guest.Result r = run.guest;
        r.assertSuccess();
        check(r, run.console.contains(GREETING), "the console works: '" + run.console + "'\n" + run.log);
        List<String> devices = r.linesStartingWith("VIRTIO-DEV ");
        check(r, devices.size() == 1 && devices.get(0).contains(" 0x0003 virtio_console "), "only the console: "
                + devices);
        check(r, run.log.contains("taken: cannot attach at PCI slot 1 of the QEMU on"), "slot refusal logged: " + run.log);
        check(r, run.log.contains("lost: cannot connect to QEMU's QMP socket"), "missing QMP logged: " + run.log);
        check(r, run.log.contains("guest resumed with 1 jvirtio PCI device(s): con0; not attached (see above): taken"),
                "resumed with the console: " + run.log);
    }

    private static final String PCI = ",transport=pci,qmp=QMP,qtest=QTEST";
    private static final String CONSOLE = "CONSOLE";

    private record Run(Guest.Result guest, String console, String log) {
    }

    /**
     * Boots a paused guest with QMP and qtest sockets, starts the container with {@code devices}
     * (QMP, QTEST, CONSOLE and ABSENT standing for the paths), reads the console socket, and waits for
     * the guest's script to end.
     */
    private Run run(String name, String script, String... devices) throws Exception {
        GuestKit kit = GuestKit.get();
        Path qmp = tmp.resolve("qmp.sock");
        Path qtest = tmp.resolve("qtest.sock");
        Path consoleSocket = tmp.resolve("con0.sock");
        Path log = tmp.resolve("container.log");
        Guest.Result r;
        String received;
        Process container = null;
        try (Guest.Running guest = kit.guest()
                .name(name)
                .script(script)
                .timeout(Duration.ofSeconds(300))
                .qemuArgs("-S", "-qmp", "unix:" + qmp + ",server=on,wait=off",
                        "-qtest", "unix:" + qtest + ",server=on,wait=off", "-qtest-log", "none")
                .start()) {
            // QEMU creates its sockets at start-up; a start condition, not a measured time.
            for (int i = 0; i < 1200 && !(Files.exists(qmp) && Files.exists(qtest)); i++) {
                Thread.sleep(50);
            }
            List<String> cmd = new ArrayList<>(List.of(BackEndProcess.java(), "-Xmx256m", "-jar",
                    BackEndProcess.containerJar().toString(), "--no-shell",
                    "--run-dir", tmp.resolve("run").toString(), "--conf-dir", tmp.resolve("conf").toString(),
                    "--deploy-dir", tmp.resolve("deploy").toString()));
            for (String d : devices) {
                cmd.add("--device");
                cmd.add(d.replace("QMP", qmp.toString()).replace("QTEST", qtest.toString())
                        .replace("CONSOLE", consoleSocket.toString())
                        .replace("ABSENT", tmp.resolve("no-such-qemu.sock").toString()));
            }
            container = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            ConsoleReader console = ConsoleReader.attach(consoleSocket, container);
            r = guest.await();
            received = console.awaitText(GREETING, 60_000);
        } finally {
            if (container != null) {
                container.destroy();
                if (!container.waitFor(30, TimeUnit.SECONDS)) {
                    container.destroyForcibly();
                }
            }
        }
        String containerLog = Files.readString(log);
        System.out.println(r);
        System.out.println(name + ": console socket received: " + received.strip());
        System.out.println(containerLog);
        return new Run(r, received, containerLog);
    }

    /** A client of the console's socket, collecting what the guest writes; attaches once the socket is there. */
    private static final class ConsoleReader {
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();
        private final SocketChannel channel;

        private ConsoleReader(SocketChannel channel) {
            this.channel = channel;
            Thread t = new Thread(this::read, "console-reader");
            t.setDaemon(true);
            t.start();
        }

        static ConsoleReader attach(Path socket, Process container) throws IOException, InterruptedException {
            // the socket backend creates the socket when the container has started it: a start condition
            for (int i = 0; i < 1200; i++) {
                if (Files.exists(socket)) {
                    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                    ch.connect(UnixDomainSocketAddress.of(socket));
                    return new ConsoleReader(ch);
                }
                if (!container.isAlive()) {
                    throw new AssertionError("the container exited with " + container.exitValue());
                }
                Thread.sleep(50);
            }
            throw new AssertionError("no console socket " + socket);
        }

        private void read() {
            ByteBuffer buf = ByteBuffer.allocate(4096);
            try {
                while (channel.read(buf.clear()) >= 0) {
                    synchronized (received) {
                        received.write(buf.array(), 0, buf.position());
                        received.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the container went away; what arrived stays
            }
        }

        /** What arrived once {@code text} is among it, or after {@code millis}: a bound on a failing run. */
        String awaitText(String text, long millis) throws InterruptedException {
            long deadline = System.currentTimeMillis() + millis;
            synchronized (received) {
                while (!received.toString(StandardCharsets.UTF_8).contains(text)
                        && System.currentTimeMillis() < deadline) {
                    received.wait(Math.max(1, deadline - System.currentTimeMillis()));
                }
                return received.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
