package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.check;
import static org.jvirtio.itest.guest.GuestChecks.negotiatedFeatures;
import static org.jvirtio.itest.guest.GuestChecks.virtioDevicesLines;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.device.net.NetCounter;
import org.jvirtio.device.net.NetDevice;
import org.jvirtio.device.net.NetDeviceOptions;
import org.jvirtio.device.net.NetFeatures;
import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.NetBackend;
import org.jvirtio.device.net.backend.NetPort;
import org.jvirtio.device.net.backend.l2.L2Switch;
import org.jvirtio.device.net.backend.l2.SwitchPort;
import org.jvirtio.device.net.backend.l2.SwitchRegistry;
import org.jvirtio.transport.vhostuser.VhostUserBackend;

/**
 * Two real Linux guests on one jvirtio L2 switch: each QEMU's {@code -netdev vhost-user} +
 * {@code virtio-net-pci} front end talks to a {@link NetDevice} served from this JVM by jvirtio's
 * vhost-user back end, and both devices are ports of the same in-JVM {@link L2Switch}. The switch has
 * no other port, so the guests reach each other and nothing else.
 *
 * <p>Each guest brings eth0 up with an address in 10.0.0.0/24, pings the other (small and near-MTU
 * echoes), then the guests move {@value #TRANSFER_KIB} KiB of random bytes over TCP each way with
 * busybox {@code nc} and print the md5 of what they sent and of what they received; the test compares
 * them across the guests. On the jvirtio side the devices' frame counters agree with the switch's, every
 * frame one port sent reached the other port (but for a few while the other device was not running),
 * no error counter moved, and frames dropped for lack of receive buffers (a TCG guest refills its ring
 * more slowly than TCP fills it; TCP resends) are counted and stay few.
 *
 * <p>QEMU 7.2 under TCG crashes in vhost-user net with MSI-X, so the device gets {@code vectors=0}
 * (INTx). Runs with split and with packed rings, with and without MRG_RXBUF. Two queue pairs do not
 * work with QEMU 7.2 yet: see {@link #twoQueuePairs()}.
 */
class VhostUserNetGuestIT {
    private static final String MAC_A = "52:54:00:6a:76:01";
    private static final String MAC_B = "52:54:00:6a:76:02";
    private static final String IP_A = "10.0.0.1";
    private static final String IP_B = "10.0.0.2";
    /** Bytes each guest sends the other over TCP. */
    private static final int TRANSFER_KIB = 4096;
    private static final int PINGS = 5;
    private static final int FILE_PORT = 5001;
    private static final int DONE_PORT = 5002;
    /** Frames a guest may send while the other guest's device does not receive yet, or any more. */
    private static final int EDGE_FRAMES = 16;


    private GuestKit kit;

    @TempDir
    Path tmp;

    /** Per test (not @BeforeAll), so that a missing QEMU shows as skipped tests locally. */
    @BeforeEach
    void kit() {
        kit = GuestKit.get();
    }

    @ParameterizedTest(name = "packed={0} mrg_rxbuf={1}")
    @CsvSource({"false, true", "true, true", "false, false"})
    void twoGuestsPingAndMoveDataOverTcp(boolean packed, boolean mergeable) throws Exception {
        twoGuests(packed, mergeable, 1);
    }

    /**
     * Two queue pairs ({@code -netdev vhost-user,queues=2}, {@code mq=on}), two CPUs per guest: the
     * guest runs both pairs, and each guest sends its file from its second CPU, so on the second
     * transmit queue. QEMU 7.2 sends every memory region once per queue pair's vhost device, which
     * the back end counts instead of refusing as an overlap; without the device serving every pair when
     * only MQ is negotiated (QEMU keeps CTRL_VQ), the second transmit queue was never read and the
     * guests could not reach each other.
     */
    @Test
    void twoQueuePairs() throws Exception {
        twoGuests(false, true, 2);
    }

    private void twoGuests(boolean packed, boolean mergeable, int pairs) throws Exception {
        String name = "vhost-net-" + (packed ? "packed" : "split") + (mergeable ? "-mrg" : "") + "-q" + pairs;
        L2Switch lan = new SwitchRegistry(System::nanoTime, TimeUnit.SECONDS.toNanos(300), 256).forName("lan0");
        PortLog ports = new PortLog(lan);
        NetDeviceOptions.Builder options = NetDeviceOptions.builder().packed(packed).mergeable(mergeable)
                .queuePairs(pairs);
        NetDevice a = new NetDevice(ports, options.mac(MAC_A).build());
        NetDevice b = new NetDevice(ports, options.mac(MAC_B).build());
        Path sockA = tmp.resolve("a.sock");
        Path sockB = tmp.resolve("b.sock");

        // A sends first (to B's listener), then listens for B's file; B the other way round
        String scriptA = script(IP_A, IP_B, true, pairs);
        String scriptB = script(IP_B, IP_A, false, pairs);
        Guest.Result ra;
        Guest.Result rb;
        try (VhostUserBackend serverA = VhostUserBackend.start(a, sockA);
                VhostUserBackend serverB = VhostUserBackend.start(b, sockB);
                Guest.Running ga = guest(name + "-a", scriptA, sockA, MAC_A, packed, pairs).start();
                Guest.Running gb = guest(name + "-b", scriptB, sockB, MAC_B, packed, pairs).start()) {
            ra = ga.await();
            rb = gb.await();
        }
        System.out.println(ra);
        System.out.println(rb);
        System.out.println(name + ": A " + counters(a) + "; B " + counters(b) + "; switch " + ports);
        if (pairs > 1) {
            System.out.println(name + ": frames per queue: A " + perQueue(a) + "; B " + perQueue(b));
        }
        ra.assertSuccess();
        rb.assertSuccess();

        // what the guests saw: the device bound to virtio_net, the ring format asked for
        for (Guest.Result r : List.of(ra, rb)) {
            String features = negotiatedFeatures(r, VirtioDeviceId.NET, "virtio_net");
            check(r, features.charAt(VirtioFeature.VERSION_1) == '1', "VERSION_1 not negotiated: " + features);
            check(r, (features.charAt(VirtioFeature.RING_PACKED) == '1') == packed,
                    "RING_PACKED " + (packed ? "not " : "") + "negotiated: " + features);
            check(r, (features.charAt(NetFeatures.MRG_RXBUF) == '1') == mergeable, "MRG_RXBUF mismatch: " + features);
            check(r, Integer.parseInt(r.value("PING-RECEIVED ")) == PINGS, "pings lost: " + r.value("PING-RECEIVED "));
            check(r, Integer.parseInt(r.value("BIGPING-RECEIVED ")) == PINGS, "near-MTU pings lost");
        }
        check(ra, MAC_A.equals(ra.value("MAC ")), "guest A's address: " + ra.value("MAC "));
        check(rb, MAC_B.equals(rb.value("MAC ")), "guest B's address: " + rb.value("MAC "));
        if (pairs > 1) {
            for (Guest.Result r : List.of(ra, rb)) {
                check(r, r.value("QUEUES ").contains("rx-1") && r.value("QUEUES ").contains("tx-1"),
                        "the guest runs one queue pair only: " + r.value("QUEUES "));
            }
            for (NetDevice d : List.of(a, b)) {
                check(ra, d.metrics(3).get(NetCounter.TX_FRAMES) > 0, "the second transmit queue carried nothing: "
                        + counters(d));
            }
        }

        // the bytes, both ways
        long bytes = TRANSFER_KIB * 1024L;
        check(ra, Long.parseLong(ra.value("SENT-SIZE ")) == bytes, "A's file size: " + ra.value("SENT-SIZE "));
        check(rb, Long.parseLong(rb.value("RECEIVED-SIZE ")) == bytes, "B received " + rb.value("RECEIVED-SIZE "));
        check(rb, ra.value("SENT-MD5 ").equals(rb.value("RECEIVED-MD5 ")), "A -> B: B received other bytes: sent "
                + ra.value("SENT-MD5 ") + ", received " + rb.value("RECEIVED-MD5 "));
        check(ra, Long.parseLong(ra.value("RECEIVED-SIZE ")) == bytes, "A received " + ra.value("RECEIVED-SIZE "));
        check(rb, !rb.linesStartingWith("PEER-DONE").isEmpty(), "B never heard that A has its file");
        check(ra, rb.value("SENT-MD5 ").equals(ra.value("RECEIVED-MD5 ")), "B -> A: A received other bytes: sent "
                + rb.value("SENT-MD5 ") + ", received " + ra.value("RECEIVED-MD5 "));

        // jvirtio's side: one port per device (each attached once), every frame switched to the other port
        check(ra, ports.size() == 2, "ports attached: " + ports);
        SwitchPort pa = ports.of(MAC_A);
        SwitchPort pb = ports.of(MAC_B);
        check(ra, pa.txFrames() == a.count(NetCounter.TX_FRAMES) && pb.txFrames() == b.count(NetCounter.TX_FRAMES),
                "the switch saw other frames than the devices sent: " + ports);
        // every frame went to the other port, but for what a guest sent while the other's device had not
        // attached yet (the first frames, IPv6 solicitations, of the guest whose link came up first): the
        // switch had no other port to send them to
        for (SwitchPort[] fromTo : List.of(new SwitchPort[] {pa, pb}, new SwitchPort[] {pb, pa})) {
            long lost = fromTo[0].txFrames() - fromTo[1].rxFrames() - fromTo[1].droppedFrames();
            check(ra, lost >= 0 && lost <= EDGE_FRAMES, lost + " frames not delivered to the only other port: "
                    + ports);
        }
        check(ra, pa.rxFrames() == a.count(NetCounter.RX_FRAMES) && pb.rxFrames() == b.count(NetCounter.RX_FRAMES),
                "the devices received other frames than the switch delivered: " + ports);
        // a port's drops are its device's drops for lack of receive buffers, but for frames that came
        // while the device was stopping (its guest powered off first)
        for (SwitchPort p : List.of(pa, pb)) {
            long stopping = p.droppedFrames() - (p == pa ? a : b).count(NetCounter.RX_NO_BUFFER);
            check(ra, stopping >= 0 && stopping <= EDGE_FRAMES, "the switch's drops are not the device's: " + ports);
        }
        for (NetDevice d : List.of(a, b)) {
            // both directions carried the file: at least its bytes (plus TCP/IP headers) each way
            check(ra, d.count(NetCounter.TX_BYTES) > bytes && d.count(NetCounter.RX_BYTES) > bytes,
                    "a device moved less than the file: " + counters(d));
            for (NetCounter c : NetCounter.MALFORMED) {
                check(ra, d.count(c) == 0, c + " counted: " + counters(d));
            }
            // Drops for lack of receive buffers are expected: a TCG guest empties its receive ring more
            // slowly than the other guest's TCP burst fills it (TCP resends), and the peer's first frames
            // may come before the driver posted buffers. Counted above; a steady loss would show here.
            check(ra, d.count(NetCounter.RX_NO_BUFFER) * 10 <= d.count(NetCounter.RX_FRAMES),
                    "more than 1 frame in 10 dropped for lack of receive buffers: " + counters(d));
        }
    }

    // ------------------------------------------------------------------ helpers

    /** A guest with one CPU per queue pair (Linux uses min(CPUs, pairs) pairs). */
    private Guest.Builder guest(String name, String script, Path socket, String mac, boolean packed, int pairs) {
        return kit.guest()
                .name(name)
                .memoryMb(256)
                .cpus(pairs)
                .timeout(Duration.ofSeconds(300))
                .script(script)
                .qemuArgs("-chardev", "socket,id=c0,path=" + socket,
                        "-netdev", "vhost-user,id=n0,chardev=c0" + (pairs > 1 ? ",queues=" + pairs : ""),
                        "-device", "virtio-net-pci,netdev=n0,mac=" + mac + ",vectors=0" + (packed ? ",packed=on" : "")
                                + (pairs > 1 ? ",mq=on" : ""));
    }

    /**
     * The guest's /test.sh: bring eth0 up at {@code self}, wait until {@code peer} answers, ping it, then
     * move a file each way: the {@code first} guest sends first and then listens, the other listens first.
     * Last, the first guest tells the other that it has the whole file: a guest powers off only when its
     * peer has everything (its TCP send buffer may still hold data when its nc ends). Waits are bounded:
     * a peer that never comes fails the script, not the test's timeout.
     */
    private static String script(String self, String peer, boolean first, int pairs) {
        String sendFile = String.join("\n",
                "dd if=/dev/urandom of=/tmp/out bs=64k count=" + TRANSFER_KIB / 64 + " 2>/dev/null",
                "echo \"SENT-SIZE $(wc -c < /tmp/out)\"",
                "echo \"SENT-MD5 $(md5sum /tmp/out | cut -d' ' -f1)\"",
                // from the last CPU: with several pairs, its own transmit queue (XPS)
                send(peer, FILE_PORT, "cat /tmp/out", pairs),
                "echo SENT");
        String receiveFile = String.join("\n",
                "timeout 180 nc -l -p " + FILE_PORT + " > /tmp/in",
                "echo \"RECEIVED-SIZE $(wc -c < /tmp/in)\"",
                "echo \"RECEIVED-MD5 $(md5sum /tmp/in | cut -d' ' -f1)\"");
        String done = first
                ? send(peer, DONE_PORT, "echo done", 1) + "\nsleep 1"
                : "timeout 180 nc -l -p " + DONE_PORT + " > /tmp/done\ngrep -q done /tmp/done && echo PEER-DONE";
        return String.join("\n",
                "set -e",
                "waitfor /sys/class/net/eth0 30",
                virtioDevicesLines(),
                "echo \"MAC $(cat /sys/class/net/eth0/address)\"",
                "echo \"QUEUES $(ls /sys/class/net/eth0/queues | tr '\\n' ' ')\"",
                "ip link set eth0 up",
                "ip addr add " + self + "/24 dev eth0",
                // the peer boots at its own pace: wait for its first answer (up to about 3 minutes)
                "n=0",
                "until ping -c 1 -W 1 " + peer + " >/dev/null 2>&1; do",
                "  n=$((n + 1)); [ $n -ge 180 ] && { echo PEER-UNREACHABLE; exit 1; }",
                "  usleep 200000",
                "done",
                "echo \"PING-RECEIVED $(ping -c " + PINGS + " " + peer
                        + " | sed -n 's/.* \\([0-9]*\\) packets received.*/\\1/p')\"",
                "echo \"BIGPING-RECEIVED $(ping -c " + PINGS + " -s 1472 " + peer
                        + " | sed -n 's/.* \\([0-9]*\\) packets received.*/\\1/p')\"",
                first ? sendFile : receiveFile,
                first ? receiveFile : sendFile,
                done,
                "cd /sys/class/net/eth0/statistics",
                "echo \"GUEST-STATS $(for s in rx_packets tx_packets rx_dropped tx_dropped rx_errors tx_errors; do"
                        + " printf '%s=%s ' $s $(cat $s); done)\"",
                "");
    }

    /**
     * Shell lines connecting to {@code peer}:{@code port} and running {@code command} with its output
     * into the socket ({@code nc -e}), trying again while the peer's listener is not up (connection
     * refused). Not nc's own stdin: nc ends as soon as the listener, whose stdin is /dev/null, shuts down
     * its sending half, and would cut the transfer short.
     */
    private static String send(String peer, int port, String command, int cpu) {
        return String.join("\n",
                "n=0",
                "until taskset " + (1 << (cpu - 1)) + " timeout 120 nc " + peer + " " + port + " -e " + command + "; do",
                "  n=$((n + 1)); [ $n -ge 120 ] && { echo SEND-FAILED " + port + "; exit 1; }",
                "  sleep 1",
                "done");
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

    /** Frames per queue: {@code rx0=.. tx1=.. rx2=.. tx3=..}. */
    private static String perQueue(NetDevice d) {
        StringBuilder b = new StringBuilder();
        for (int q = 0; q < d.queueCount() - 1; q++) {
            NetCounter c = q % 2 == 0 ? NetCounter.RX_FRAMES : NetCounter.TX_FRAMES;
            b.append(q == 0 ? "" : " ").append(q % 2 == 0 ? "rx" : "tx").append(q).append('=')
                    .append(d.metrics(q).get(c));
        }
        return b.toString();
    }

    /** The switch as the devices' backend, keeping every port it hands out (a closed port keeps its counters). */
    private static final class PortLog implements NetBackend {
        private final L2Switch target;
        private final List<Map.Entry<String, SwitchPort>> attached = new CopyOnWriteArrayList<>();

        PortLog(L2Switch target) {
            this.target = target;
        }

        @Override
        public NetPort attach(FrameSink sink, byte[] mac) {
            SwitchPort port = target.attach(sink, mac);
            attached.add(Map.entry(HexFormat.ofDelimiter(":").formatHex(mac), port));
            return port;
        }

        int size() {
            return attached.size();
        }

        /** The one port of the device with address {@code mac} ("52:54:00:..."). */
        SwitchPort of(String mac) {
            List<SwitchPort> ports = attached.stream().filter(e -> e.getKey().equals(mac)).map(Map.Entry::getValue)
                    .toList();
            if (ports.size() != 1) {
                throw new AssertionError("device " + mac + " attached " + ports.size() + " times: " + this);
            }
            return ports.get(0);
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            for (Map.Entry<String, SwitchPort> e : attached) {
                SwitchPort p = e.getValue();
                b.append(b.length() == 0 ? "" : ", ").append(e.getKey()).append(' ').append(p).append(" tx=")
                        .append(p.txFrames()).append(" rx=").append(p.rxFrames()).append(" dropped=")
                        .append(p.droppedFrames());
            }
            return b.toString();
        }
    }
}
