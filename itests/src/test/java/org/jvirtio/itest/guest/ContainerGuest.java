package org.jvirtio.itest.guest;

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

/**
 * A real guest booted paused with QMP and qtest sockets and the container ({@code java -jar
 * jvirtio.jar}) attaching {@code --device}s to it, as a user runs them: the route of the container's
 * PCI and mmio guest tests. In device options QMP, QTEST, CONSOLE and ABSENT stand for the paths
 * under the test's directory (QEMU's sockets, the console's socket, a QMP socket with no QEMU).
 */
final class ContainerGuest {
    /** What the guest writes to hvc0, looked for on the console socket. */
    static final String GREETING = "hello from hvc0 over jvirtio";

    private final Path tmp;

    ContainerGuest(Path tmp) {
        this.tmp = tmp;
    }

    /** {@code devices} as {@code --device} arguments with the stand-ins replaced. */
    List<String> deviceArgs(String... devices) {
        Path qmp = tmp.resolve("qmp.sock");
        Path qtest = tmp.resolve("qtest.sock");
        List<String> args = new ArrayList<>();
        for (String d : devices) {
            args.add("--device");
            args.add(d.replace("QMP", qmp.toString()).replace("QTEST", qtest.toString())
                    .replace("CONSOLE", tmp.resolve("con0.sock").toString())
                    .replace("ABSENT", tmp.resolve("no-such-qemu.sock").toString()));
        }
        return args;
    }

    record Run(Guest.Result guest, String console, String log) {
    }

    /**
     * Boots a paused guest with QMP and qtest sockets (and {@code extraQemuArgs}), starts the
     * container with {@code devices}, reads the console socket, and waits for the guest's script to end.
     */
    Run run(String name, String script, List<String> extraQemuArgs, String... devices) throws Exception {
        GuestKit kit = GuestKit.get();
        Path qmp = tmp.resolve("qmp.sock");
        Path qtest = tmp.resolve("qtest.sock");
        Path consoleSocket = tmp.resolve("con0.sock");
        Path log = tmp.resolve("container.log");
        Guest.Result r;
        String received;
        Process container = null;
        List<String> qemuArgs = new ArrayList<>(extraQemuArgs);
        qemuArgs.addAll(List.of("-S", "-qmp", "unix:" + qmp + ",server=on,wait=off",
                "-qtest", "unix:" + qtest + ",server=on,wait=off", "-qtest-log", "none"));
        try (Guest.Running guest = kit.guest()
                .name(name)
                .script(script)
                .timeout(Duration.ofSeconds(300))
                .qemuArgs(qemuArgs.toArray(String[]::new))
                .start()) {
            // QEMU creates its sockets at start-up; a start condition, not a measured time.
            for (int i = 0; i < 1200 && !(Files.exists(qmp) && Files.exists(qtest)); i++) {
                Thread.sleep(50);
            }
            List<String> cmd = new ArrayList<>(List.of(BackEndProcess.java(), "-Xmx256m", "-jar",
                    BackEndProcess.containerJar().toString(), "--no-shell",
                    "--run-dir", tmp.resolve("run").toString(), "--conf-dir", tmp.resolve("conf").toString(),
                    "--deploy-dir", tmp.resolve("deploy").toString()));
            cmd.addAll(deviceArgs(devices));
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
                    try {
                        ch.connect(UnixDomainSocketAddress.of(socket));
                        return new ConsoleReader(ch);
                    } catch (java.net.ConnectException e) {
                        ch.close(); // bound but not listening yet: the same start condition, once more
                    }
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
