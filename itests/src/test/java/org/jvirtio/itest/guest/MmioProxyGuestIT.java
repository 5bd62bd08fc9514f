package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.awaitBoundLines;
import static org.jvirtio.itest.guest.GuestChecks.awaitFunctionLines;
import static org.jvirtio.itest.guest.GuestChecks.bytes;
import static org.jvirtio.itest.guest.GuestChecks.check;
import static org.jvirtio.itest.guest.GuestChecks.md5;
import static org.jvirtio.itest.guest.GuestChecks.negotiatedFeatures;
import static org.jvirtio.itest.guest.GuestChecks.virtioDevicesLines;
import static org.jvirtio.itest.guest.GuestChecks.writeAndReadBackLines;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.device.blk.BlockDevice;
import org.jvirtio.device.blk.BlockDeviceOptions;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.transport.mmio.MmioCounter;
import org.jvirtio.transport.mmio.VirtioMmioTransport;
import org.jvirtio.transport.mmio.acpi.MmioSsdt;
import org.jvirtio.transport.mmio.proxy.VirtioMmioSlot;
import org.jvirtio.transport.pci.proxy.ProxiedFunction;
import org.jvirtio.transport.pci.proxy.ProxySlot;
import org.jvirtio.transport.pci.proxy.QemuProxyHost;

/**
 * virtio-blk, virtio-net, virtio-console and virtio-balloon behind virtio-mmio register windows, driven
 * by a real Linux guest's virtio_mmio driver (QEMU TCG). The four windows share BAR0 of one PCI function
 * that jvirtio serves through QEMU's multi-process proxy ({@code x-pci-proxy-dev}, attached over QMP at
 * slot 4, interrupts through qtest); jvirtio's SSDT ({@code -acpitable}) declares one {@code LNRO0005}
 * device per window at BAR0 + i * 0x200 with the function's INTx line. In one boot the guest binds all
 * four to virtio_mmio (and the PCI function to no driver), each reaches DRIVER_OK with split or with
 * packed rings, and each passes the same checks as on {@link PciProxyAllDevicesGuestIT}:
 * {@link BlkPatternCheck} (a pattern written and read back, found in the host's disk),
 * {@link NetPingCheck} (every ping to a responder on the device's switch answered, nothing else sent),
 * {@link ConsolePortsCheck} (hvc0 and a named port both ways, a resize seen by {@code stty size}) and
 * {@link BalloonInflateCheck} (inflation seen in {@code actual}, the guest's MemTotal and the host
 * memory of guest RAM, statistics while inflated, deflation).
 */
class MmioProxyGuestIT {
    private static final int SLOT = 4;
    private static final int DISK = 16 << 20;
    private static final int BLOCK = 64 << 10;
    private static final int OFFSET = 1 << 20;
    private static final int PATTERN = 256 << 10;
    /** How long the host waits for each step of the guest. */
    private static final Duration STEP = Duration.ofSeconds(540);

    private GuestKit kit;

    @TempDir
    Path tmp;

    @BeforeEach
    void kit() {
        kit = GuestKit.get();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void fourDevicesInOneSlotBoundByVirtioMmio(boolean packed) throws Exception {
        String name = "mmio-proxy-" + (packed ? "packed" : "split");
        FourDeviceChecks checks = new FourDeviceChecks("jvirtio-mmio", packed, packed ? 41 : 43);
        List<VirtioDevice> devices = checks.devices();
        VirtioMmioSlot mmio = VirtioMmioSlot.builder().window("blk0", devices.get(0)).window("net0", devices.get(1))
                .window("console0", devices.get(2)).window("balloon0", devices.get(3)).build();
        Path table = tmp.resolve("vmmio.aml");
        Files.write(table, MmioSsdt.builder().slot(SLOT, mmio.windowCount()).build());

        ProxySockets sockets = new ProxySockets(tmp);
        String pci = "/sys/bus/pci/devices/0000:00:0" + Integer.toHexString(SLOT) + ".0";
        String script = String.join("\n",
                "set -e",
                awaitFunctionLines(),
                awaitBoundLines(120, "virtio_blk", "virtio_net", "virtio_console", "virtio_balloon"),
                "for d in /sys/bus/platform/devices/LNRO0005:*; do",
                "  drv=none; [ -e $d/driver ] && drv=$(basename $(readlink $d/driver))",
                "  echo \"PLATFORM $(basename $d) $drv\"",
                "done",
                "for d in /sys/bus/virtio/devices/*; do",
                "  echo \"VIRTIO-AT $(cat $d/device) $(basename $(dirname $(readlink -f $d))) $(cat $d/status)\"",
                "done",
                virtioDevicesLines(),
                "drv=none; [ -e " + pci + "/driver ] && drv=$(basename $(readlink " + pci + "/driver))",
                "echo \"PCI-FN $(cat " + pci + "/vendor) $(cat " + pci + "/class) $drv\"",
                FourDeviceChecks.guestLines(),
                "");
        Guest.Result r;
        Map<String, Long> proxyCounters;
        // each window's status and negotiated features while the guest runs (its power-off resets them)
        int[] hostStatus = new int[devices.size()];
        long[] hostFeatures = new long[devices.size()];
        try (Guest.Running guest = checks.blk().addFileTo(kit.guest())
                .name(name)
                .script(script)
                .timeout(Duration.ofSeconds(900))
                .qemuArgs("-acpitable", "file=" + table)
                .qemuArgs(sockets.qemuArgs())
                .start();
                PingResponder responder = checks.net().startResponder()) {
            try (QemuProxyHost host = sockets.attach(List.of(new ProxySlot("mmio0", SLOT, mmio)))) {
                QemuGuestRam ram = QemuGuestRam.of(guest.process().pid());
                checks.console().hostStep(guest, STEP);
                for (int w = 0; w < devices.size(); w++) {
                    hostStatus[w] = mmio.transport(w).status();
                    hostFeatures[w] = mmio.transport(w).negotiatedFeatures();
                }
                checks.balloon().hostSteps(guest, ram, STEP);
                r = guest.await();
                ProxiedFunction function = host.functions().get(0);
                proxyCounters = function.counters();
                System.out.println(name + ": proxy " + proxyCounters + "; slot " + mmio.counters());
                for (int w = 0; w < devices.size(); w++) {
                    System.out.println(name + " window " + w + ": " + mmio.transport(w) + " "
                            + mmio.transport(w).counters());
                }
            }
        }
        System.out.println(r);
        r.assertSuccess();

        // the proxy and the function saw nothing wrong
        check(r, proxyCounters.get("refused") == 0 && proxyCounters.get("broken") == 0
                && proxyCounters.get("barUnmatched") == 0 && proxyCounters.get("functionErrors") == 0,
                "proxy: " + proxyCounters);
        Map<String, Long> slot = mmio.counters();
        for (String fault : List.of("outsideWindows", "crossesWindows", "noSuchBar", "configOutOfRange")) {
            check(r, slot.get(fault) == 0, "slot function: " + slot);
        }
        check(r, slot.get("intxRaises") > 0, "no interrupt through the shared pin: " + slot);

        // the PCI function is claimed by no driver; every window is a virtio_mmio platform device
        check(r, r.value("PCI-FN ").equals("0x564a 0xff0000 none"), "PCI function: " + r.value("PCI-FN "));
        List<String> platform = r.linesStartingWith("PLATFORM ");
        check(r, platform.size() == devices.size(), "platform devices: " + platform);
        for (int w = 0; w < devices.size(); w++) {
            String expected = String.format("LNRO0005:%02x virtio-mmio", w);
            check(r, platform.contains(expected), "missing '" + expected + "': " + platform);
        }

        // each window: the right device under the right LNRO0005, DRIVER_OK, ring layout as asked
        String[] drivers = {"virtio_blk", "virtio_net", "virtio_console", "virtio_balloon"};
        List<String> at = r.linesStartingWith("VIRTIO-AT ");
        for (int w = 0; w < devices.size(); w++) {
            int id = devices.get(w).deviceId();
            String window = String.format("LNRO0005:%02x", w);
            // each line: device id, parent platform device, status
            String line = at.stream().filter(l -> l.split(" ")[0].equals(String.format("0x%04x", id)))
                    .findFirst().orElseThrow(() -> r.failure("no virtio device " + id + ": " + at));
            String[] f = line.split(" ");
            check(r, f[1].equals(window), "device " + id + " not under " + window + ": " + line);
            check(r, (Integer.decode(f[2]) & DeviceStatus.DRIVER_OK) != 0, "device " + id + " not DRIVER_OK: " + line);
            String features = negotiatedFeatures(r, id, drivers[w]);
            boolean ringPacked = features.length() > VirtioFeature.RING_PACKED
                    && features.charAt(VirtioFeature.RING_PACKED) == '1';
            check(r, ringPacked == packed, "device " + id + " RING_PACKED " + ringPacked + ": " + features);
            check(r, (hostStatus[w] & DeviceStatus.DRIVER_OK) != 0
                    && (hostFeatures[w] & VirtioFeature.bit(VirtioFeature.RING_PACKED)) != 0 == packed,
                    "host side of window " + w + ": status " + hostStatus[w] + ", features " + hostFeatures[w]);
            VirtioMmioTransport t = mmio.transport(w);
            check(r, t.count(MmioCounter.BAD_QUEUE_SETUP) == 0 && t.count(MmioCounter.FEATURES_REFUSED) == 0
                    && t.count(MmioCounter.BAD_STATUS_TRANSITION) == 0, "window " + w + ": " + t.counters());
        }
        check(r, (mmio.transport(0).device() == devices.get(0)), "window 0 is the disk");

        checks.verify(r, name);
    }

    /**
     * Two slots, one window each, in one table: each window sits in its own function's BAR and takes its
     * own function's interrupt line (the _CRS reads both at run time), and each disk works.
     */
    @org.junit.jupiter.api.Test
    void twoSlotsEachWithItsOwnBarAndLine() throws Exception {
        int[] slots = {4, 5};
        byte[][] patterns = {bytes(PATTERN, 51), bytes(PATTERN, 53)};
        MemoryBackend[] disks = {MemoryBackend.of(DISK, true), MemoryBackend.of(DISK, true)};
        VirtioMmioSlot[] mmio = new VirtioMmioSlot[2];
        MmioSsdt.Builder table = MmioSsdt.builder();
        List<ProxySlot> proxySlots = new java.util.ArrayList<>();
        for (int i = 0; i < 2; i++) {
            BlockDevice blk = new BlockDevice(disks[i], BlockDeviceOptions.builder().serial("jvirtio-mmio-" + i)
                    .build());
            mmio[i] = VirtioMmioSlot.builder().window("blk" + i, blk).build();
            table.slot(slots[i], 1);
            proxySlots.add(new ProxySlot("mmio" + i, slots[i], mmio[i]));
        }
        Path ssdt = tmp.resolve("vmmio2.aml");
        Files.write(ssdt, table.build());
        ProxySockets sockets = new ProxySockets(tmp);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 2; i++) {
            String pci = "/sys/bus/pci/devices/0000:00:0" + slots[i] + ".0";
            lines.append(String.join("\n",
                    "echo \"SLOT-" + i + " $(head -n1 " + pci + "/resource | cut -d' ' -f1) $(cat " + pci + "/irq)\"",
                    "echo \"WINDOW-" + i + " $(grep 'LNRO0005:0" + i + "' /proc/iomem | tr -d ' ' | cut -d- -f1)\"",
                    "")).append("\n");
        }
        for (int d = 0; d < 2; d++) {
            String vd = "vd" + (char) ('a' + d);
            lines.append(String.join("\n",
                    "echo \"SERIAL-" + d + " $(cat /sys/block/" + vd + "/serial)\"",
                    writeAndReadBackLines("READBACK-MD5-" + d, "/data/pattern" + d + ".bin", "/dev/" + vd, OFFSET,
                            BLOCK, PATTERN),
                    "")).append("\n");
        }
        String script = String.join("\n",
                "set -e",
                "waitfor /dev/vda 120",
                "waitfor /dev/vdb 60",
                "for d in /sys/bus/virtio/devices/*; do",
                "  echo \"VIRTIO-AT $(basename $d) $(basename $(dirname $(readlink -f $d)))\"",
                "done",
                lines.toString(),
                "grep virtio /proc/interrupts | sed 's/^ *\\([0-9]*\\):.* \\(virtio[0-9]*\\)$/IRQ \\2 \\1/'",
                "");
        Guest.Result r;
        try (Guest.Running guest = kit.guest()
                .name("mmio-proxy-two-slots")
                .script(script)
                .file("/data/pattern0.bin", patterns[0])
                .file("/data/pattern1.bin", patterns[1])
                .timeout(Duration.ofSeconds(600))
                .qemuArgs("-acpitable", "file=" + ssdt)
                .qemuArgs(sockets.qemuArgs())
                .start()) {
            try (QemuProxyHost host = sockets.attach(proxySlots)) {
                r = guest.await();
                for (ProxiedFunction f : host.functions()) {
                    System.out.println("two slots " + f.slot().id() + ": proxy " + f.counters());
                }
            }
        }
        System.out.println(r);
        r.assertSuccess();
        List<String> at = r.linesStartingWith("VIRTIO-AT ");
        List<String> irqs = r.linesStartingWith("IRQ ");
        String[] slotIrq = new String[2];
        for (int i = 0; i < 2; i++) {
            String[] slot = r.value("SLOT-" + i + " ").split(" ");
            slotIrq[i] = slot[1];
            check(r, Long.decode(slot[0]) != 0, "slot " + slots[i] + " BAR0 unassigned");
            check(r, Long.parseLong(r.value("WINDOW-" + i + " "), 16) == Long.decode(slot[0]),
                    "window " + i + " not at its slot's BAR0: " + r.value("WINDOW-" + i + " ") + " vs " + slot[0]);
            int w = i;
            String virtio = at.stream().filter(l -> l.endsWith(String.format(" LNRO0005:%02x", w))).map(l -> l.split(" ")[0])
                    .findFirst().orElseThrow(() -> r.failure("no virtio device under window " + w + ": " + at));
            check(r, irqs.contains(virtio + " " + slot[1]),
                    virtio + " does not take slot " + slots[i] + "'s line " + slot[1] + ": " + irqs);
            check(r, r.value("SERIAL-" + i).equals("jvirtio-mmio-" + i) || r.value("SERIAL-" + (1 - i))
                    .equals("jvirtio-mmio-" + i), "serials: " + r.value("SERIAL-0") + " " + r.value("SERIAL-1"));
        }
        check(r, !slotIrq[0].equals(slotIrq[1]), "both slots on line " + slotIrq[0] + ": the test shows nothing");
        for (int d = 0; d < 2; d++) {
            assertEquals(md5(patterns[d]), r.value("READBACK-MD5-" + d));
            // /dev/vda is whichever disk probed first: find the one holding the pattern
            ByteBuffer a = ByteBuffer.allocate(PATTERN);
            ByteBuffer b = ByteBuffer.allocate(PATTERN);
            disks[0].read(OFFSET, a);
            disks[1].read(OFFSET, b);
            check(r, java.util.Arrays.equals(patterns[d], a.array()) || java.util.Arrays.equals(patterns[d], b.array()),
                    "pattern " + d + " on neither host disk");
        }
    }
}
