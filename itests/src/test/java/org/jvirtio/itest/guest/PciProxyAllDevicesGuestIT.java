package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.awaitBoundLines;
import static org.jvirtio.itest.guest.GuestChecks.awaitFunctionLines;
import static org.jvirtio.itest.guest.GuestChecks.check;
import static org.jvirtio.itest.guest.GuestChecks.virtioDevicesLines;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.jvirtio.api.DeviceStatus;
import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.api.device.VirtioDevice;
import org.jvirtio.transport.pci.VirtioPciFunction;
import org.jvirtio.transport.pci.proxy.ProxySlot;
import org.jvirtio.transport.pci.proxy.QemuProxyHost;

/**
 * All four jvirtio device types in one real Linux guest, each a virtio-pci function in its own slot,
 * served from this JVM through QEMU's multi-process proxy: virtio-blk (slot 4), virtio-net (5),
 * virtio-console (6), virtio-balloon (7). Once with MSI-X, once with INTx ({@code pci=nomsi}; the four
 * functions then share two IOAPIC lines).
 *
 * <p>The guest's virtio_pci binds each function, each driver reaches DRIVER_OK, and then the
 * {@link FourDeviceChecks} run one after the other:
 * <ul>
 * <li><b>blk</b>: {@link BlkPatternCheck}: a pattern written with O_DIRECT is read back, and the host
 *     finds it in its memory disk;
 * <li><b>net</b>: {@link NetPingCheck}: every ping to a {@link PingResponder} on the device's switch comes
 *     back, and nothing else left the guest;
 * <li><b>console</b>: {@link ConsolePortsCheck}: hvc0 and a named port both ways, and a resize seen by
 *     {@code stty size};
 * <li><b>balloon</b>: {@link BalloonInflateCheck}: inflation seen in {@code actual}, the guest's MemTotal
 *     and the host memory of guest RAM, statistics while inflated, and deflation.
 * </ul>
 * The host drives each step when the guest prints a marker on its serial console.
 */
class PciProxyAllDevicesGuestIT {
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
        FourDeviceChecks checks = new FourDeviceChecks("jvirtio-pci-all", true, msix ? 41 : 43);
        List<VirtioDevice> d = checks.devices();
        List<ProxySlot> slots = List.of(
                new ProxySlot("blk0", 4, VirtioPciFunction.factory(d.get(0), "blk0")),
                new ProxySlot("net0", 5, VirtioPciFunction.factory(d.get(1), "net0")),
                new ProxySlot("con0", 6, VirtioPciFunction.factory(d.get(2), "con0")),
                new ProxySlot("balloon0", 7, VirtioPciFunction.factory(d.get(3), "balloon0")));
        ProxySockets sockets = new ProxySockets(tmp);

        Guest.Result r;
        try (PingResponder responder = checks.net().startResponder();
                Guest.Running guest = checks.blk().addFileTo(kit.guest())
                        .name(name)
                        .script(script())
                        .memoryMb(GUEST_MB)
                        .kernelArgs(msix ? "" : "pci=nomsi")
                        .timeout(Duration.ofSeconds(900))
                        .qemuArgs(sockets.qemuArgs())
                        .start()) {
            try (QemuProxyHost host = sockets.attach(slots)) {
                QemuGuestRam ram = QemuGuestRam.of(guest.process().pid());

                checks.console().hostStep(guest, STEP);
                checks.balloon().hostSteps(guest, ram, STEP);

                r = guest.await();
                ProxySockets.checkCounters(r, host, name, msix);
            }
            System.out.println(r);
            r.assertSuccess();

            // each function bound by virtio_pci, its driver at DRIVER_OK, nothing failed
            List<String> devices = r.linesStartingWith("VIRTIO-DEV ");
            check(r, devices.size() == 4, "four virtio devices: " + devices);
            expectDevice(r, devices, VirtioDeviceId.BLOCK, "virtio_blk", 4);
            expectDevice(r, devices, VirtioDeviceId.NET, "virtio_net", 5);
            expectDevice(r, devices, VirtioDeviceId.CONSOLE, "virtio_console", 6);
            expectDevice(r, devices, VirtioDeviceId.BALLOON, "virtio_balloon", 7);

            checks.verify(r, name);
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
                FourDeviceChecks.guestLines(),
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
