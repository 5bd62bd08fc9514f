package org.jvirtio.itest.guest;

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
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.device.balloon.BalloonDevice;
import org.jvirtio.device.balloon.BalloonError;
import org.jvirtio.device.balloon.BalloonOptions;
import org.jvirtio.device.balloon.control.BalloonStatistics;
import org.jvirtio.device.balloon.control.StatTag;
import org.jvirtio.device.blk.BlockDevice;
import org.jvirtio.device.blk.BlockDeviceOptions;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.device.console.ConsoleCounter;
import org.jvirtio.device.console.ConsoleDevice;
import org.jvirtio.device.console.ConsoleDeviceOptions;
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
 * <li><b>console</b>: text the guest writes to hvc0 (port 0) and to a named port (port 1,
 *     {@value #PORT_NAME}) arrives in the ports' memory backends; text sent from them is read in the guest
 *     from both; a resize from the host shows in {@code stty size} on hvc0;
 * <li><b>balloon</b>: the guest first touches most of its free memory (so that the host backs it); a
 *     target set with {@code BalloonControl.setTargetPages} makes the driver inflate: the device's
 *     {@code actual} reaches the target, the guest's MemTotal drops by as much (DEFLATE_ON_OOM is not
 *     offered, so Linux takes the pages off its total), and the blocks QEMU's guest RAM memfd holds on the
 *     host drop; target 0 deflates it and MemTotal comes back; statistics arrive, and the one taken while
 *     inflated reports the guest's MemTotal of then. Free page reporting is not offered here: it would
 *     release the touched pages by itself, before the balloon could show that it does.
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

    private static final String PORT_NAME = "org.jvirtio.test.port1";
    private static final int COLS = 132;
    private static final int ROWS = 43;

    /** 128 MiB in 4 KiB balloon pages. */
    private static final long BALLOON_PAGES = 32768;
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

        org.jvirtio.device.console.backend.memory.MemoryBackend hvc =
                new org.jvirtio.device.console.backend.memory.MemoryBackend();
        org.jvirtio.device.console.backend.memory.MemoryBackend port1 =
                new org.jvirtio.device.console.backend.memory.MemoryBackend();
        ConsoleDevice console = new ConsoleDevice(List.of(hvc, port1),
                ConsoleDeviceOptions.builder().names("", PORT_NAME).build());

        // STATS_VQ, FREE_PAGE_HINT and PAGE_POISON; not DEFLATE_ON_OOM (MemTotal shows the balloon) nor
        // PAGE_REPORTING (it would release the touched pages itself)
        BalloonDevice balloon = new BalloonDevice(BalloonOptions.defaults()
                .withFeatures(true, false, true, false, true)
                .withStatsPeriodMillis(1000));

        List<ProxySlot> slots = List.of(
                new ProxySlot("blk0", 4, VirtioPciFunction.factory(blk, "blk0")),
                new ProxySlot("net0", 5, VirtioPciFunction.factory(net, "net0")),
                new ProxySlot("con0", 6, VirtioPciFunction.factory(console, "con0")),
                new ProxySlot("balloon0", 7, VirtioPciFunction.factory(balloon, "balloon0")));
        ProxySockets sockets = new ProxySockets(tmp);

        Guest.Result r;
        long ramBefore;
        long ramInflated;
        BalloonStatistics inflatedStats;
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

                awaitMarker(guest, "CONSOLE-READY");
                hvc.send("to hvc0 from the host\n");
                port1.send("to the named port from the host\n");
                console.resize(COLS, ROWS);

                awaitMarker(guest, "BALLOON-READY");
                ramBefore = ram.allocatedBytes();
                balloon.setTargetPages(BALLOON_PAGES);
                awaitHost(guest, () -> balloon.actualPages() == BALLOON_PAGES, "balloon inflated to the target");
                awaitMarker(guest, "BALLOON-INFLATED");
                ramInflated = ram.allocatedBytes();
                long sampleBefore = balloon.statistics().sequence();
                balloon.requestStatistics();
                awaitHost(guest, () -> balloon.statistics().sequence() > sampleBefore, "a statistics sample");
                inflatedStats = balloon.statistics();
                balloon.setTargetPages(0);
                awaitHost(guest, () -> balloon.actualPages() == 0, "balloon deflated");

                r = guest.await();
                ProxySockets.checkCounters(r, host, name, msix);
            }
            System.out.println(name + ": responder answered " + responder.arpAnswered() + " ARP, "
                    + responder.echoesAnswered() + " echo; unexpected frames " + responder.unexpected());
            System.out.println(name + ": net " + net.counters() + "; console " + console.counters() + "; balloon "
                    + balloon.counters());
            System.out.println(name + ": guest RAM memfd " + (ramBefore >> 20) + " MiB before inflating, "
                    + (ramInflated >> 20) + " MiB inflated");
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

            // console: both ways on both ports, and the resize
            check(r, hvc.outputText().contains("hvc0 says hello"), "hvc0 output at the host: " + hvc.outputText());
            check(r, port1.outputText().contains("the named port says hello"),
                    "named port output at the host: " + port1.outputText());
            check(r, r.value("VPORT-NAME ").equals(PORT_NAME), "port name in sysfs");
            check(r, r.value("HVC0-IN ").equals("to hvc0 from the host"), "host input on hvc0");
            check(r, r.value("VPORT-IN ").equals("to the named port from the host"), "host input on the named port");
            check(r, r.value("SIZE-AFTER ").equals(ROWS + " " + COLS), "stty size after the resize");
            check(r, !r.value("SIZE-BEFORE ").equals(ROWS + " " + COLS), "the size before the resize");
            for (ConsoleCounter c : ConsoleCounter.MALFORMED) {
                check(r, console.count(c) == 0, "console: " + c + " counted: " + console.counters());
            }

            // balloon
            long before = Long.parseLong(r.value("MEMTOTAL-BEFORE "));
            long inflated = Long.parseLong(r.value("MEMTOTAL-INFLATED "));
            long deflated = Long.parseLong(r.value("MEMTOTAL-DEFLATED "));
            long balloonKib = BALLOON_PAGES * 4;
            check(r, before - inflated == balloonKib, "MemTotal " + before + " kB inflated to " + inflated + " kB");
            check(r, deflated == before, "MemTotal after deflating: " + deflated + " kB, before " + before + " kB");
            check(r, ramBefore - ramInflated >= BALLOON_PAGES * 4096 / 2,
                    "host memory of guest RAM: " + ramBefore + " bytes before inflating, " + ramInflated + " inflated");
            check(r, inflatedStats.has(StatTag.MEMTOT) && inflatedStats.get(StatTag.MEMTOT) == inflated * 1024,
                    "statistics while inflated (guest MemTotal " + inflated + " kB): " + inflatedStats);
            check(r, inflatedStats.has(StatTag.MEMFREE) && inflatedStats.get(StatTag.MEMFREE) > 0,
                    "free memory in the statistics: " + inflatedStats);
            for (BalloonError e : BalloonError.values()) {
                check(r, balloon.errors(e) == 0, "balloon: " + e + " counted: " + balloon.counters());
            }
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
                "# await SECONDS WHAT COMMAND...: run COMMAND every 0.2 s until it succeeds; fail after SECONDS",
                "await() {",
                "  t=$(($1 * 5)); what=$2; shift 2",
                "  until \"$@\" >/dev/null 2>&1; do",
                "    t=$((t - 1)); [ $t -le 0 ] && { echo \"TIMEOUT $what\"; exit 1; }",
                "    usleep 200000",
                "  done",
                "}",
                "bound() { ls /sys/bus/virtio/drivers/$1 | grep -q virtio; }",
                "meminfo() { sed -n \"s/^$1: *\\([0-9]*\\) kB/\\1/p\" /proc/meminfo; }",
                "named_port() { grep -lx " + PORT_NAME + " /sys/class/virtio-ports/*/name; }",
                "",
                "# every function bound by virtio_pci and its driver",
                "await 60 blk bound virtio_blk",
                "await 60 net bound virtio_net",
                "await 60 console bound virtio_console",
                "await 60 balloon bound virtio_balloon",
                "await 60 'named port' named_port",
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
                "# console: hvc0 is port 0; the named port opens once (a port takes one opener)",
                "vport=/dev/$(basename $(dirname $(named_port)))",
                "echo \"VPORT-NAME $(cat /sys/class/virtio-ports/$(basename $vport)/name)\"",
                "waitfor $vport 10",
                "exec 3</dev/hvc0 4<>$vport",
                "stty -echo <&3",
                "echo 'hvc0 says hello' > /dev/hvc0",
                "echo 'the named port says hello' >&4",
                "before=$(stty size <&3)",
                "echo \"SIZE-BEFORE $before\"",
                "echo CONSOLE-READY",
                "read -t 120 line <&3 || line=nothing",
                "echo \"HVC0-IN $line\"",
                "read -t 120 line <&4 || line=nothing",
                "echo \"VPORT-IN $line\"",
                "resized() { [ \"$(stty size <&3)\" != \"$before\" ]; }",
                "await 120 resize resized",
                "echo \"SIZE-AFTER $(stty size <&3)\"",
                "exec 3<&- 4<&-",
                "",
                "# balloon: touch most free memory first, so that the host backs the pages the balloon takes",
                "total=$(meminfo MemTotal)",
                "echo \"MEMTOTAL-BEFORE $total\"",
                "fill=$(( $(meminfo MemFree) / 1024 - 64 ))",
                "mkdir -p /fill && mount -t tmpfs -o size=${fill}m tmpfs /fill",
                "dd if=/dev/zero of=/fill/zeros bs=1M count=$fill 2>/dev/null || true",
                "rm /fill/zeros && umount /fill",
                "echo BALLOON-READY",
                "inflated() { [ $(meminfo MemTotal) -le $((total - " + BALLOON_PAGES * 4 + ")) ]; }",
                "await 240 inflate inflated",
                "echo \"MEMTOTAL-INFLATED $(meminfo MemTotal)\"",
                "echo BALLOON-INFLATED",
                "deflated() { [ $(meminfo MemTotal) -ge $total ]; }",
                "await 240 deflate deflated",
                "echo \"MEMTOTAL-DEFLATED $(meminfo MemTotal)\"",
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

    /** Waits for the guest to print {@code marker}; fails with the console if it does not. */
    private static void awaitMarker(Guest.Running guest, String marker) throws InterruptedException {
        if (!guest.waitFor(marker, STEP)) {
            guest.close();
            throw guest.await().failure("the guest never printed " + marker);
        }
    }

    /** Waits for a host-side condition the guest causes; fails with the console if it does not come. */
    private static void awaitHost(Guest.Running guest, BooleanSupplier condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                guest.close();
                throw guest.await().failure("never on the host: " + what);
            }
            Thread.sleep(100);
        }
    }
}
