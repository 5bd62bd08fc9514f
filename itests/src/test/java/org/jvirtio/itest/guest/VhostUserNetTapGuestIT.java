package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.check;
import static org.jvirtio.itest.guest.GuestChecks.negotiatedFeatures;
import static org.jvirtio.itest.guest.GuestChecks.virtioDevicesLines;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.device.net.NetCounter;
import org.jvirtio.device.net.NetDevice;
import org.jvirtio.device.net.NetDeviceOptions;
import org.jvirtio.device.net.NetFeatures;
import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.NetBackend;
import org.jvirtio.device.net.backend.NetOffload;
import org.jvirtio.device.net.backend.tap.TapBackend;
import org.jvirtio.device.net.backend.tap.TapPort;
import org.jvirtio.transport.vhostuser.VhostUserBackend;

/**
 * A real Linux guest reaching the host's network stack through jvirtio's {@code tap} backend: QEMU's
 * {@code -netdev vhost-user} + {@code virtio-net-pci} front end talks to a {@link NetDevice} served
 * from this JVM, whose backend is a {@link TapBackend}, offloads on or off. The backend creates the TAP
 * interface when the guest's driver starts the device; the test then moves it into a network namespace
 * of its own ({@code jvtest-<random>}) and gives it {@value #HOST_IP}/24 there, the only address the
 * guest talks to. Nothing else is in that namespace, so no frame of the guest's reaches anything else.
 *
 * <p>The guest pings the namespace (small and near-MTU echoes), then sends {@value #TRANSFER_KIB} KiB
 * of random bytes over TCP (busybox {@code nc}) to a listener the test runs in the namespace, and
 * receives as many from a sender there; md5s are compared across the two ends, and neither stack may
 * have counted a TCP checksum error.
 *
 * <p>With the backend's offloads on, the Linux driver negotiates CSUM, GUEST_CSUM and TSO4 both ways:
 * checksums are left partial and segments of up to 64 KiB travel in the vnet header through jvirtio
 * and the TAP, and the frames' average size shows TSO at work in each direction. With them off, the
 * driver gets CSUM only, the device completes the guest's checksums itself and every frame fits the
 * MTU. On the jvirtio side the device's frame counters agree with the TAP port's, and no error counter
 * moved; the TAP refused frames only while it was down (before the test brought it up in the namespace).
 *
 * <p>Needs root (a TAP interface and a namespace), {@code ip}, {@code python3} (the namespace's end of
 * the transfers) and /dev/net/tun: without them it is skipped, or fails with {@code CI=true}.
 */
class VhostUserNetTapGuestIT {
    private static final String MAC = "52:54:00:6a:76:11";
    private static final String HOST_IP = "10.99.0.1";
    private static final String GUEST_IP = "10.99.0.2";
    /** Bytes moved each way over TCP. */
    private static final int TRANSFER_KIB = 4096;
    private static final int PINGS = 5;
    /** Guest to namespace. */
    private static final int UP_PORT = 5001;
    /** Namespace to guest. */
    private static final int DOWN_PORT = 5002;


    /** The namespace's listener: takes one connection, writes what it reads to argv[1]. */
    private static final String LISTENER = String.join("\n",
            "import socket, sys",
            "s = socket.socket()",
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "s.bind(('0.0.0.0', int(sys.argv[2])))",
            "s.listen(1)",
            "s.settimeout(280)",
            "c, peer = s.accept()",
            "c.settimeout(120)",
            "with open(sys.argv[1], 'wb') as f:",
            "    while True:",
            "        b = c.recv(65536)",
            "        if not b:",
            "            break",
            "        f.write(b)",
            "c.close()");

    /** The namespace's sender: connects to argv[2]:argv[3] (again while refused), sends file argv[1]. */
    private static final String SENDER = String.join("\n",
            "import socket, sys, time",
            "data = open(sys.argv[1], 'rb').read()",
            "end = time.time() + 120",
            "while True:",
            "    try:",
            "        c = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=5)",
            "        break",
            "    except OSError:",
            "        if time.time() > end:",
            "            raise",
            "        time.sleep(0.5)",
            "c.settimeout(120)",
            "c.sendall(data)",
            "c.shutdown(socket.SHUT_WR)",
            "while c.recv(65536):",
            "    pass",
            "c.close()");

    @TempDir
    Path tmp;

    private GuestKit kit;
    private String namespace;
    private final List<Process> namespaceProcesses = new CopyOnWriteArrayList<>();

    /** Per test, so that a missing QEMU, root or ip shows as a skipped test locally. */
    @BeforeEach
    void kit() throws Exception {
        kit = GuestKit.get();
        if (!Files.exists(Path.of("/dev/net/tun"))) {
            unavailable("no /dev/net/tun");
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            unavailable("not root: TAP interfaces and network namespaces need CAP_NET_ADMIN");
        }
        if (!commandWorks("ip", "-V")) {
            unavailable("no iproute2 'ip'");
        }
        if (!commandWorks("python3", "-c", "pass")) {
            unavailable("no python3 for the namespace's end of the transfers");
        }
    }

    @AfterEach
    void deleteNamespace() throws Exception {
        for (Process p : namespaceProcesses) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (namespace != null) {
            // with it goes the TAP, if its device still held it
            run("ip", "netns", "delete", namespace);
        }
    }

    @ParameterizedTest(name = "offloads={0}")
    @ValueSource(booleans = {true, false})
    void aGuestReachesTheNamespaceThroughTheTap(boolean offloads) throws Exception {
        String ifname = "jvtg" + randomHex();
        namespace = "jvtest-" + randomHex();
        runOk("ip", "netns", "add", namespace);

        PortLog ports = new PortLog(new TapBackend(ifname, offloads));
        NetDevice device = new NetDevice(ports, NetDeviceOptions.builder().mac(MAC).build());
        Path socket = tmp.resolve("tap.sock");
        Path upload = tmp.resolve("from-guest");
        byte[] download = GuestChecks.bytes(TRANSFER_KIB * 1024, 0x6a7674L);
        Path downloadFile = tmp.resolve("to-guest");
        Files.write(downloadFile, download);

        // listening before the guest boots: the namespace has no address yet, the socket takes any
        Process listener = inNamespace("python3", "-c", LISTENER, upload.toString(), String.valueOf(UP_PORT));
        Guest.Result r;
        long refusedWhileDown;
        try (VhostUserBackend server = VhostUserBackend.start(device, socket);
                Guest.Running guest = guest(socket).start()) {
            // the backend creates the interface when the driver starts the device (DRIVER_OK)
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            while (!run("ip", "link", "show", "dev", ifname).ok()) {
                if (System.nanoTime() > deadline || !guest.process().isAlive()) {
                    throw new AssertionError("TAP " + ifname + " never created:\n" + guest.console());
                }
                Thread.sleep(100);
            }
            runOk("ip", "link", "set", "dev", ifname, "netns", namespace);
            // no IPv6 link-local address: no neighbour discovery among the test's frames
            runOk("ip", "-n", namespace, "link", "set", "dev", ifname, "addrgenmode", "none");
            runOk("ip", "-n", namespace, "address", "add", HOST_IP + "/24", "dev", ifname);
            runOk("ip", "-n", namespace, "link", "set", "dev", ifname, "up");
            // until now the kernel refused (EIO) what the guest sent: the interface was down, as it is
            // while it moves between namespaces (the guest's first ARP requests, its IPv6 solicitations)
            refusedWhileDown = ports.waitForOne().txErrors();

            if (guest.waitFor("LISTENING " + DOWN_PORT, Duration.ofSeconds(240))) {
                Process sender = inNamespace("python3", "-c", SENDER, downloadFile.toString(), GUEST_IP,
                        String.valueOf(DOWN_PORT));
                sender.waitFor(150, TimeUnit.SECONDS);
            }
            r = guest.await();
            check(r, listener.waitFor(30, TimeUnit.SECONDS), "the namespace's listener did not end");
        }
        String hostSnmp = run("ip", "netns", "exec", namespace, "cat", "/proc/net/snmp").output();
        System.out.println(r + ": " + r.linesStartingWith("GUEST-STATS "));
        System.out.println("tap guest: device " + counters(device) + "; " + ports + "; refused while down "
                + refusedWhileDown + "; bytes per frame: tx "
                + perFrame(device, NetCounter.TX_BYTES, NetCounter.TX_FRAMES) + ", rx "
                + perFrame(device, NetCounter.RX_BYTES, NetCounter.RX_FRAMES));
        for (Process p : namespaceProcesses) {
            if (p.isAlive()) {
                continue; // killed after the test; its output would block
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!out.isEmpty()) {
                System.out.println("namespace process: " + out);
            }
        }
        r.assertSuccess();

        // what the guest negotiated: CSUM always (without offloads the device completes checksums
        // itself), receive checksum and segmentation offloads both ways only where the TAP carries them
        String features = negotiatedFeatures(r, VirtioDeviceId.NET, "virtio_net");
        check(r, features.charAt(VirtioFeature.VERSION_1) == '1' && features.charAt(NetFeatures.CSUM) == '1',
                "VERSION_1 or CSUM not negotiated: " + features);
        for (int bit : new int[] {NetFeatures.GUEST_CSUM, NetFeatures.HOST_TSO4, NetFeatures.GUEST_TSO4}) {
            check(r, (features.charAt(bit) == '1') == offloads, "feature bit " + bit + (offloads ? " not" : "")
                    + " negotiated: " + features);
        }
        check(r, MAC.equals(r.value("MAC ")), "the guest's address: " + r.value("MAC "));
        check(r, Integer.parseInt(r.value("PING-RECEIVED ")) == PINGS, "pings lost: " + r.value("PING-RECEIVED "));
        check(r, Integer.parseInt(r.value("BIGPING-RECEIVED ")) == PINGS, "near-MTU pings lost");

        // the bytes, both ways
        long bytes = TRANSFER_KIB * 1024L;
        byte[] uploaded = Files.readAllBytes(upload);
        check(r, Long.parseLong(r.value("SENT-SIZE ")) == bytes, "the guest's file size: " + r.value("SENT-SIZE "));
        check(r, uploaded.length == bytes, "the namespace received " + uploaded.length + " bytes");
        check(r, r.value("SENT-MD5 ").equals(GuestChecks.md5(uploaded)), "guest -> namespace: other bytes arrived: "
                + "sent " + r.value("SENT-MD5 ") + ", received " + GuestChecks.md5(uploaded));
        check(r, Long.parseLong(r.value("RECEIVED-SIZE ")) == bytes, "the guest received " + r.value("RECEIVED-SIZE "));
        check(r, GuestChecks.md5(download).equals(r.value("RECEIVED-MD5 ")), "namespace -> guest: other bytes "
                + "arrived: sent " + GuestChecks.md5(download) + ", received " + r.value("RECEIVED-MD5 "));
        // checksums left to the other side were finished right: neither stack dropped a segment as corrupt
        check(r, snmp(hostSnmp, "Tcp:", "InCsumErrors") == 0, "the namespace counted TCP checksum errors:\n" + hostSnmp);
        check(r, Long.parseLong(r.value("TCP-INCSUMERRORS ")) == 0, "the guest counted TCP checksum errors");

        // jvirtio's side: one port, its frames are the device's, no error
        TapPort port = ports.only(r);
        check(r, port.txFrames() + port.txErrors() == device.count(NetCounter.TX_FRAMES), "the TAP wrote other "
                + "frames than the device sent: " + ports + "; device " + counters(device));
        check(r, port.txErrors() == refusedWhileDown && port.txDropped() == 0, "the TAP refused or dropped frames "
                + "while up (" + refusedWhileDown + " refused before): " + ports);
        check(r, port.rxFrames() == device.count(NetCounter.RX_FRAMES), "the device received other frames than the "
                + "TAP read: " + ports + "; device " + counters(device));
        check(r, port.readFailure() == null, "the TAP's reader failed: " + port.readFailure());
        check(r, device.count(NetCounter.TX_BYTES) > bytes && device.count(NetCounter.RX_BYTES) > bytes,
                "the device moved less than the file: " + counters(device));
        for (NetCounter c : NetCounter.MALFORMED) {
            check(r, device.count(c) == 0, c + " counted: " + counters(device));
        }
        // segmentation offload at work both ways: on average, frames larger than a 1500-byte MTU allows
        // (without TSO every frame is at most 1514 bytes)
        check(r, (perFrame(device, NetCounter.TX_BYTES, NetCounter.TX_FRAMES) > 1514) == offloads,
                "guest -> namespace: TSO segments " + (offloads ? "missing" : "without TSO") + ": " + counters(device));
        check(r, (perFrame(device, NetCounter.RX_BYTES, NetCounter.RX_FRAMES) > 1514) == offloads,
                "namespace -> guest: TSO segments " + (offloads ? "missing" : "without TSO") + ": " + counters(device));
        // a TCG guest empties its receive ring more slowly than the host's TCP fills it (TCP resends)
        check(r, device.count(NetCounter.RX_NO_BUFFER) * 10 <= device.count(NetCounter.RX_FRAMES),
                "more than 1 frame in 10 dropped for lack of receive buffers: " + counters(device));
    }

    // ------------------------------------------------------------------ the guest

    private Guest.Builder guest(Path socket) {
        return kit.guest()
                .name("vhost-net-tap")
                .memoryMb(256)
                .timeout(Duration.ofSeconds(360))
                .script(script())
                .qemuArgs("-chardev", "socket,id=c0,path=" + socket,
                        "-netdev", "vhost-user,id=n0,chardev=c0",
                        "-device", "virtio-net-pci,netdev=n0,mac=" + MAC + ",vectors=0");
    }

    /**
     * The guest's /test.sh: eth0 up at {@value #GUEST_IP}, wait until the namespace answers (the test
     * moves and addresses the TAP only once the device started), ping it, send the file to the
     * namespace's listener, then listen for the namespace's file. Waits are bounded: a namespace that
     * never answers fails the script, not the test's timeout.
     */
    private static String script() {
        return String.join("\n",
                "set -e",
                "waitfor /sys/class/net/eth0 30",
                "for d in /sys/bus/virtio/devices/*; do",
                "  drv=none; [ -e $d/driver ] && drv=$(basename $(readlink $d/driver))",
                "  echo \"VIRTIO-DEV $(basename $d) $(cat $d/device) $drv $(cat $d/features)\"",
                "done",
                "echo \"MAC $(cat /sys/class/net/eth0/address)\"",
                "ip link set eth0 up",
                "ip addr add " + GUEST_IP + "/24 dev eth0",
                "n=0",
                "until ping -c 1 -W 1 " + HOST_IP + " >/dev/null 2>&1; do",
                "  n=$((n + 1)); [ $n -ge 180 ] && { echo HOST-UNREACHABLE; exit 1; }",
                "  usleep 200000",
                "done",
                "echo \"PING-RECEIVED $(ping -c " + PINGS + " " + HOST_IP
                        + " | sed -n 's/.* \\([0-9]*\\) packets received.*/\\1/p')\"",
                "echo \"BIGPING-RECEIVED $(ping -c " + PINGS + " -s 1472 " + HOST_IP
                        + " | sed -n 's/.* \\([0-9]*\\) packets received.*/\\1/p')\"",
                "dd if=/dev/urandom of=/tmp/out bs=64k count=" + TRANSFER_KIB / 64 + " 2>/dev/null",
                "echo \"SENT-SIZE $(wc -c < /tmp/out)\"",
                "echo \"SENT-MD5 $(md5sum /tmp/out | cut -d' ' -f1)\"",
                // nc -e: the file into the socket, which closes when cat ends
                "n=0",
                "until timeout 120 nc " + HOST_IP + " " + UP_PORT + " -e cat /tmp/out; do",
                "  n=$((n + 1)); [ $n -ge 60 ] && { echo SEND-FAILED; exit 1; }",
                "  sleep 1",
                "done",
                "echo SENT",
                "echo \"LISTENING " + DOWN_PORT + "\"",
                "timeout 180 nc -l -p " + DOWN_PORT + " < /dev/null > /tmp/in",
                "echo \"RECEIVED-SIZE $(wc -c < /tmp/in)\"",
                "echo \"RECEIVED-MD5 $(md5sum /tmp/in | cut -d' ' -f1)\"",
                "echo \"TCP-INCSUMERRORS $(awk '/^Tcp:/ { if (h) { print $NF } else { h = 1; for (i = 1; i <= NF;"
                        + " i++) if ($i == \"InCsumErrors\") c = i } }' /proc/net/snmp | head -1)\"",
                "cd /sys/class/net/eth0/statistics",
                "echo \"GUEST-STATS $(for s in rx_packets tx_packets rx_dropped tx_dropped rx_errors tx_errors; do"
                        + " printf '%s=%s ' $s $(cat $s); done)\"",
                "");
    }

    // ------------------------------------------------------------------ the host side

    /** Fails under CI, skips otherwise. */
    private static void unavailable(String why) {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError("the tap guest test cannot run in CI: " + why);
        }
        Assumptions.abort(why + "; skipped (with CI=true this is a failure)");
    }

    private static String randomHex() {
        return String.format("%08x", ThreadLocalRandom.current().nextInt());
    }

    /** {@code command} in the test's namespace, in the background; killed after the test. */
    private Process inNamespace(String... command) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(List.of(command));
        Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
        namespaceProcesses.add(p);
        return p;
    }

    private static boolean commandWorks(String... command) {
        try {
            return run(command).ok();
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private record Result(int exit, String output) {
        boolean ok() {
            return exit == 0;
        }
    }

    /** Runs a command, bounded to 10 s. */
    private static Result run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("timed out: " + String.join(" ", command));
        }
        return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    }

    private static void runOk(String... command) throws IOException, InterruptedException {
        Result result = run(command);
        if (!result.ok()) {
            throw new AssertionError(String.join(" ", command) + " exited " + result.exit() + ": " + result.output());
        }
    }

    /** A value of /proc/net/snmp: line pair starting with {@code prefix}, column {@code field}. */
    private static long snmp(String snmp, String prefix, String field) {
        String[] lines = snmp.lines().filter(l -> l.startsWith(prefix)).toArray(String[]::new);
        String[] names = lines[0].split("\\s+");
        String[] values = lines[1].split("\\s+");
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(field)) {
                return Long.parseLong(values[i]);
            }
        }
        throw new AssertionError("no " + prefix + " " + field + " in " + snmp);
    }

    private static long perFrame(NetDevice d, NetCounter bytes, NetCounter frames) {
        return d.count(bytes) / Math.max(1, d.count(frames));
    }

    private static String counters(NetDevice d) {
        StringBuilder b = new StringBuilder();
        for (NetCounter c : NetCounter.values()) {
            long v = d.count(c);
            if (v != 0) {
                b.append(b.length() == 0 ? "" : " ").append(c.name().toLowerCase(Locale.ROOT)).append('=').append(v);
            }
        }
        return b.toString();
    }

    /** The tap backend, keeping every port it opens (a closed port keeps its counters). */
    private static final class PortLog implements NetBackend {
        private final TapBackend target;
        private final List<TapPort> attached = new CopyOnWriteArrayList<>();

        PortLog(TapBackend target) {
            this.target = target;
        }

        @Override
        public TapPort attach(FrameSink sink, byte[] mac) {
            TapPort port = target.attach(sink, mac);
            attached.add(port);
            return port;
        }

        @Override
        public Set<NetOffload> offloads() {
            return target.offloads();
        }

        /** The first port, once the device has attached (just after the TAP appeared). */
        TapPort waitForOne() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (attached.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the TAP exists, but no device attached to it");
                }
                Thread.sleep(10);
            }
            return attached.get(0);
        }

        /** The one port: the device attached once (a second start would have opened a new TAP). */
        TapPort only(Guest.Result r) {
            check(r, attached.size() == 1, "the device attached " + attached.size() + " times: " + this);
            return attached.get(0);
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            for (TapPort p : attached) {
                b.append(b.length() == 0 ? "" : ", ").append(p).append(" tx=").append(p.txFrames())
                        .append(" txDropped=").append(p.txDropped()).append(" txErrors=").append(p.txErrors())
                        .append(" rx=").append(p.rxFrames()).append(" rxDropped=").append(p.rxDropped());
            }
            return b.toString();
        }
    }
}
