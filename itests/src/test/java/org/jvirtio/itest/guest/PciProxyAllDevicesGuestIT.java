package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.awaitBoundLines;
import static org.jvirtio.itest.guest.GuestChecks.awaitFunctionLines;
import static org.jvirtio.itest.guest.GuestChecks.bytes;
import static org.jvirtio.itest.guest.GuestChecks.check;
import static org.jvirtio.itest.guest.GuestChecks.md5;
import static org.jvirtio.itest.guest.GuestChecks.virtioDevicesLines;
import static org.jvirtio.itest.guest.GuestChecks.writeAndReadBackLines;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.device.balloon.BalloonDevice;
import org.jvirtio.device.blk.BlockDevice;
import org.jvirtio.device.blk.BlockDeviceOptions;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.device.console.ConsoleDevice;
import org.jvirtio.device.net.NetCounter;
import org.jvirtio.device.net.NetDevice;
import org.jvirtio.device.net.NetDeviceOptions;
import org.jvirtio.device.net.backend.l2.L2Switch;
import org.jvirtio.device.net.backend.l2.SwitchBackend;
import org.jvirtio.transport.pci.VirtioPciFunction;
import org.jvirtio.transport.pci.proxy.ProxySlot;
import org.jvirtio.transport.pci.proxy.QemuProxyHost;

/**
 * All four jvirtio device types in one real Linux guest, each a virtio-pci function in its own slot,
 * served from this JVM through QEMU's multi-process proxy: virtio-blk (slot 4), virtio-net (5),
 * virtio-console (6), virtio-balloon (7). Once with MSI-X, once with INTx ({@code pci=nomsi}; the four
 * functions then share two IOAPIC lines).
 *
 * <p>The guest's virtio_pci binds each function, each driver reaches DRIVER_OK, and then, one after
 * the other:
 * <ul>
 * <li><b>blk</b>: a pattern written with O_DIRECT is read back, and the host finds it in its memory disk;
 * <li><b>net</b>: eth0 is a port of a jvirtio {@code switch} whose only other port is a {@link PingResponder}
 *     in this JVM; the guest pings it and every echo comes back, and the responder saw nothing but ARP
 *     requests for it and echo requests to it;
 * <li><b>console</b>: {@link ConsolePortsCheck}: hvc0 and a named port both ways, and a resize seen by
 *     {@code stty size};
 * <li><b>balloon</b>: {@link BalloonInflateCheck}: inflation seen in {@code actual}, the guest's MemTotal
 *     and the host memory of guest RAM, statistics while inflated, and deflation.
 * </ul>
 * The host drives each step when the guest prints a marker on its serial console.
 */
class PciProxyAllDevicesGuestIT {
    private static final int DISK = 16 << 20;
    private static final int BLOCK = 64 << 10;
    private static final int OFFSET = 1 << 20;
    private static final int PATTERN = 512 << 10;

    private static final String GUEST_MAC = "52:54:00:6a:76:10";
    private static final String GUEST_IP = "10.0.2.15";
    private static final String RESPONDER_MAC = "52:54:00:6a:76:fe";
    private static final String RESPONDER_IP = "10.0.2.2";
    private static final int PINGS = 5;

    private static final int GUEST_MB = 512;

    private static final Duration STEP = Duration.ofSeconds(240);

    private GuestKit kit;

    @TempDir
    Path tmp;

    @BeforeEach
    void kit() {
        kit = GuestKit.get();
    }

    @ParameterizedTest(name = "msix={0}")
    @ValueSource(booleans = {true, false})
    void everyDeviceTypeWorksOverPci(boolean msix) throws Exception {
        String name = "pci-proxy-all-" + (msix ? "msix" : "intx");
        byte[] pattern = bytes(PATTERN, msix ? 41 : 43);
        MemoryBackend disk = MemoryBackend.of(DISK, true);
        BlockDevice blk = new BlockDevice(disk, BlockDeviceOptions.builder().serial("jvirtio-pci-all").build());

        L2Switch lan = new L2Switch("pci-lan", System::nanoTime, Duration.ofMinutes(5).toNanos(), 64);
        NetDevice net = new NetDevice(new SwitchBackend(lan), NetDeviceOptions.builder().mac(GUEST_MAC).build());

        ConsolePortsCheck consoleCheck = new ConsolePortsCheck(true);
        ConsoleDevice console = consoleCheck.device();
        BalloonInflateCheck balloonCheck = new BalloonInflateCheck(true);
        BalloonDevice balloon = balloonCheck.device();

        List<ProxySlot> slots = List.of(
                new ProxySlot("blk0", 4, VirtioPciFunction.factory(blk, "blk0")),
                new ProxySlot("net0", 5, VirtioPciFunction.factory(net, "net0")),
                new ProxySlot("con0", 6, VirtioPciFunction.factory(console, "con0")),
                new ProxySlot("balloon0", 7, VirtioPciFunction.factory(balloon, "balloon0")));
        ProxySockets sockets = new ProxySockets(tmp);

        Guest.Result r;
        try (PingResponder responder = new PingResponder(new SwitchBackend(lan), RESPONDER_MAC, RESPONDER_IP);
                Guest.Running guest = kit.guest()
                        .name(name)
                        .script(script())
                        .file("/data/pattern.bin", pattern)
                        .memoryMb(GUEST_MB)
                        .kernelArgs(msix ? "" : "pci=nomsi")
                        .timeout(Duration.ofSeconds(900))
                        .qemuArgs(sockets.qemuArgs())
                        .start()) {
            try (QemuProxyHost host = sockets.attach(slots)) {
                QemuGuestRam ram = QemuGuestRam.of(guest.process().pid());

                consoleCheck.hostStep(guest, STEP);
                balloonCheck.hostSteps(guest, ram, STEP);

                r = guest.await();
                ProxySockets.checkCounters(r, host, name, msix);
            }
            System.out.println(name + ": responder answered " + responder.arpAnswered() + " ARP, "
                    + responder.echoesAnswered() + " echo; unexpected frames " + responder.unexpected());
            System.out.println(name + ": net " + net.counters() + "; console " + console.counters());
            System.out.println(r);
            r.assertSuccess();

            // each function bound by virtio_pci, its driver at DRIVER_OK, nothing failed
            List<String> devices = r.linesStartingWith("VIRTIO-DEV ");
            check(r, devices.size() == 4, "four virtio devices: " + devices);
            expectDevice(r, devices, VirtioDeviceId.BLOCK, "virtio_blk", 4);
            expectDevice(r, devices, VirtioDeviceId.NET, "virtio_net", 5);
            expectDevice(r, devices, VirtioDeviceId.CONSOLE, "virtio_console", 6);
            expectDevice(r, devices, VirtioDeviceId.BALLOON, "virtio_balloon", 7);

            // blk
            check(r, r.value("SECTORS ").equals(Integer.toString(DISK / 512)), "capacity");
            check(r, r.value("BLK-READBACK-MD5 ").equals(md5(pattern)), "the guest read back other bytes");
            ByteBuffer onDisk = ByteBuffer.allocate(PATTERN);
            disk.read(OFFSET, onDisk);
            check(r, Arrays.equals(pattern, onDisk.array()), "the host disk holds what the guest wrote");

            // net: every echo answered, and the guest talked to nothing but the responder
            check(r, r.value("PING-RECEIVED ").equals(Integer.toString(PINGS)), "pings lost");
            check(r, responder.echoesAnswered() >= PINGS && responder.arpAnswered() >= 1,
                    "the responder answered " + responder.echoesAnswered() + " echoes, " + responder.arpAnswered()
                            + " ARP requests");
            check(r, responder.unexpected().isEmpty(), "frames to other addresses: " + responder.unexpected());
            for (NetCounter c : NetCounter.MALFORMED) {
                check(r, net.count(c) == 0, "net: " + c + " counted: " + net.counters());
            }

            consoleCheck.verify(r);
            balloonCheck.verify(r, name);
        }

        // interrupts: MSI-X vectors, or INTx through the IOAPIC and no MSI at all; each device took some
        List<String> irqs = r.linesStartingWith("IRQ ");
        for (String dev : List.of("virtio0", "virtio1", "virtio2", "virtio3")) {
            String kind = msix ? "PCI-MSI" : "IO-APIC";
            List<String> lines = irqs.stream().filter(l -> l.contains(kind) && l.contains(msix ? dev + "-" : dev))
                    .toList();
            check(r, interrupts(lines) > 0, kind + " interrupts taken for " + dev + ": " + irqs);
        }
        if (msix) {
            // the balloon's configuration vector carried the two target changes
            check(r, interrupts(irqs.stream().filter(l -> l.endsWith("virtio3-config")).toList()) >= 2,
                    "configuration-change interrupts of the balloon: " + irqs);
        } else {
            check(r, irqs.stream().noneMatch(l -> l.contains("MSI")), "no MSI: " + irqs);
        }
    }

    /** Interrupts counted on /proc/interrupts lines ({@code 24:  18  PCI-MSI 65537-edge  virtio0-req.0}, one CPU). */
    private static long interrupts(List<String> lines) {
        return lines.stream().mapToLong(l -> Long.parseLong(l.trim().split("\\s+")[1])).sum();
    }

    /** The guest's /test.sh: the four devices one after the other, markers where the host acts. */
    private static String script() {
        return String.join("\n",
                "set -e",
                awaitFunctionLines(),
                "",
                "# every function bound by virtio_pci and its driver",
                awaitBoundLines(60, "virtio_blk", "virtio_net", "virtio_console", "virtio_balloon"),
                virtioDevicesLines(),
                "",
                "# blk",
                "waitfor /dev/vda 30",
                "echo \"SECTORS $(cat /sys/block/vda/size)\"",
                writeAndReadBackLines("BLK-READBACK-MD5", "/data/pattern.bin", "/dev/vda", OFFSET, BLOCK, PATTERN),
                "",
                "# net: only the responder on the switch; no IPv6 chatter",
                "echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6 2>/dev/null || true",
                "ip addr add " + GUEST_IP + "/24 dev eth0",
                "ip link set eth0 up",
                "await 60 'first echo' ping -c 1 -W 1 " + RESPONDER_IP,
                "echo \"PING-RECEIVED $(ping -c " + PINGS + " -W 5 " + RESPONDER_IP
                        + " | sed -n 's/.* \\([0-9]*\\) packets received.*/\\1/p')\"",
                "",
                "# console: hvc0 and a named port, both ways, and a resize",
                ConsolePortsCheck.guestLines(),
                "",
                "# balloon: inflate, statistics, deflate",
                BalloonInflateCheck.guestLines(),
                "",
                "grep virtio /proc/interrupts | sed 's/^/IRQ /'",
                "");
    }

    /** The VIRTIO-DEV line of the device of type {@code id}: bound to {@code driver} over virtio-pci in {@code slot}. */
    private static void expectDevice(Guest.Result r, List<String> devices, int id, String driver, int slot) {
        String type = String.format("0x%04x", id);
        List<String> of = devices.stream().filter(l -> l.split(" ")[1].equals(type)).toList();
        check(r, of.size() == 1, "one device of type " + id + ": " + devices);
        String[] f = of.get(0).split(" ");
        check(r, f.length == 7 && f[2].equals(driver), "device " + id + " not bound to " + driver + ": " + of);
        int status = Integer.decode(f[4]);
        check(r, (status & DeviceStatus.DRIVER_OK) != 0
                && (status & (DeviceStatus.DEVICE_NEEDS_RESET | DeviceStatus.FAILED)) == 0,
                "device " + id + " status " + f[4]);
        check(r, f[5].equals("virtio-pci") && f[6].equals(String.format("0000:00:%02x.0", slot)),
                "device " + id + " not on virtio-pci in slot " + slot + ": " + of);
    }
}
