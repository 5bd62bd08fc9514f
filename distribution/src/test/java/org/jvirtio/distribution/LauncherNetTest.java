package org.jvirtio.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.jvirtio.device.net.NetCounter;
import org.jvirtio.device.net.backend.l2.SwitchBackend;
import org.jvirtio.device.net.backend.sink.SinkBackend;

/** The launcher's net devices in this JVM: real sockets, the Java front end as the guest's driver. */
class LauncherNetTest {
    private static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};
    private static final Duration SETTLE = Duration.ofMillis(300);

    @TempDir
    Path dir;
    final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    final PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);

    private static byte[] frame(byte[] dst, byte[] src, int length, int seed) {
        byte[] f = new byte[length];
        System.arraycopy(dst, 0, f, 0, 6);
        System.arraycopy(src, 0, f, 6, 6);
        f[12] = (byte) 0x88; // local experimental ethertype 0x88B5
        f[13] = (byte) 0xB5;
        for (int i = 14; i < length; i++) {
            f[i] = (byte) (seed * 31 + i * 7);
        }
        return f;
    }

    private static SwitchBackend switchOf(Launcher.Running running, String id) {
        return (SwitchBackend) ((ServedNetDevice) running.device(id)).device().backend();
    }

    /** blk and net in one launcher; net devices naming one switch share it, another name is another switch. */
    @Test
    void netDevicesOnOneSwitchTalkAndOtherSwitchesAndTheSinkStayApart() throws Exception {
        Path a = dir.resolve("a.sock");
        Path b = dir.resolve("b.sock");
        Path c = dir.resolve("c.sock");
        Path s = dir.resolve("s.sock");
        try (Launcher.Running running = Launcher.launch(List.of(
                "--device", "blk,id=disk,socket=" + dir.resolve("disk.sock") + ",backend=null,size=1M",
                "--device", "net,id=a,socket=" + a + ",switch=lan0,mac=52:54:00:00:00:0a",
                "--device", "net,id=b,socket=" + b + ",backend=switch,switch=lan0,mac=52:54:00:00:00:0b,packed=off",
                "--device", "net,id=c,socket=" + c + ",switch=lan1,mac=52:54:00:00:00:0c,queues=2,mtu=9000",
                "--device", "net,id=s,socket=" + s + ",backend=sink"), out)) {
            String text = printed.toString(StandardCharsets.UTF_8);
            assertThat(text).contains(
                    "jvirtio: serving a: net on switch lan0, mac 52:54:00:00:00:0a, mtu 1500, 1 queue pair, socket " + a,
                    "jvirtio: serving c: net on switch lan1, mac 52:54:00:00:00:0c, mtu 9000, 2 queue pairs, socket " + c,
                    "jvirtio: serving s: net on sink, mac " + defaultMac("s") + ", mtu 1500, 1 queue pair, socket " + s,
                    " -chardev socket,id=c1,path=" + a + " -netdev vhost-user,id=n1,chardev=c1 -device virtio-net-pci,"
                            + "netdev=n1,mac=52:54:00:00:00:0a,packed=on -chardev socket,id=c2",
                    " -device virtio-net-pci,netdev=n3,mac=52:54:00:00:00:0c,mq=on,vectors=6,packed=on,host_mtu=9000",
                    Launcher.TCG_NET_NOTE);
            assertThat(switchOf(running, "a").target()).isSameAs(switchOf(running, "b").target())
                    .isNotSameAs(switchOf(running, "c").target());
            assertThat(switchOf(running, "c").target().name()).isEqualTo("lan1");

            try (NetClient ca = new NetClient(a); NetClient cb = new NetClient(b); NetClient cc = new NetClient(c);
                    NetClient cs = new NetClient(s)) {
                byte[] macA = ca.mac();
                byte[] macB = cb.mac();
                assertThat(macA).containsExactly(0x52, 0x54, 0, 0, 0, 0x0a);
                // a broadcast from A reaches B on lan0, not C on lan1
                byte[] hello = frame(BROADCAST, macA, 60, 1);
                ca.send(hello);
                assertThat(cb.receive(Duration.ofSeconds(10))).isEqualTo(hello);
                // B answers by unicast, full size
                byte[] answer = frame(macA, macB, 1514, 2);
                cb.send(answer);
                assertThat(ca.receive(Duration.ofSeconds(10))).isEqualTo(answer);
                assertThat(cc.receive(SETTLE)).as("lan1 is another switch").isNull();
                // C alone on lan1: its broadcast reaches nobody on lan0
                cc.send(frame(BROADCAST, cc.mac(), 100, 3));
                assertThat(ca.receive(SETTLE)).isNull();
                assertThat(cb.receive(SETTLE)).isNull();
                // the sink counts and answers nothing
                cs.send(frame(BROADCAST, cs.mac(), 70, 4));
                cs.send(frame(macA, cs.mac(), 80, 5));
                assertThat(cs.receive(SETTLE)).isNull();
                assertThat(ca.receive(SETTLE)).as("the sink is no switch").isNull();
            }
            SinkBackend sink = (SinkBackend) ((ServedNetDevice) running.device("s")).device().backend();
            assertThat(sink.frames()).isEqualTo(2);
            assertThat(sink.bytes()).isEqualTo(150);
            assertThat(((ServedNetDevice) running.device("a")).device().count(NetCounter.TX_FRAMES)).isEqualTo(1);
            assertThat(((ServedNetDevice) running.device("b")).device().count(NetCounter.RX_FRAMES)).isEqualTo(1);
        }
        assertThat(a).as("closed: the socket is gone").doesNotExist();
    }

    /** client=on: the launcher connects to the listening "QEMU", as for blk. */
    @Test
    void clientModeConnectsToTheListeningFrontEnd() throws Exception {
        Path socket = dir.resolve("qemu-net.sock");
        Path peer = dir.resolve("peer.sock");
        try (Launcher.Running running = Launcher.launch(List.of(
                "--device", "net,id=cli,socket=" + socket + ",switch=lan0,client=on,reconnect=1",
                "--device", "net,id=peer,socket=" + peer + ",switch=lan0"), out)) {
            assertThat(printed.toString(StandardCharsets.UTF_8)).contains("cli: net on switch lan0, mac " + defaultMac("cli") + ","
                    + " mtu 1500, 1 queue pair, connecting to QEMU's socket " + socket + " (every 1 s until it listens)",
                    "-chardev socket,id=c0,path=" + socket + ",server=on,wait=off -netdev vhost-user,id=n0,chardev=c0");
            try (NetClient cli = NetClient.listen(socket, Duration.ofSeconds(10)); NetClient other = new NetClient(peer)) {
                byte[] f = frame(BROADCAST, cli.mac(), 64, 6);
                cli.send(f);
                assertThat(other.receive(Duration.ofSeconds(10))).isEqualTo(f);
            }
        }
    }

    /**
     * A TAP device is served like any other; its interface is opened when the guest's driver starts the
     * device (TapBackendTest covers the traffic, in a namespace of its own).
     */
    @Test
    void servesATapDevice() throws Exception {
        Path socket = dir.resolve("t.sock");
        try (Launcher.Running running = Launcher.launch(List.of("--device", "net,id=t,socket=" + socket
                + ",backend=tap,ifname=jvtap0"), out)) {
            assertThat(socket).exists();
            assertThat(printed.toString(StandardCharsets.UTF_8)).contains("t: net on tap jvtap0");
        }
    }

    /** The address a net device without mac= gets: the platform's, derived from the id. */
    private static String defaultMac(String id) throws UsageException {
        return ((NetDeviceSpec) DeviceOptionParser.parseArguments(List.of("--device", "net,id=" + id + ",socket=x")).get(0))
                .mac();
    }
}
