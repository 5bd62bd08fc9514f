package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.check;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jvirtio.transport.mmio.acpi.MmioSsdt;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jvirtio's own SSDT in a real Linux guest (QEMU TCG, {@code -acpitable file=...}): the kernel loads it
 * without an ACPI error, the namespace holds one {@code LNRO0005} device per window under the slot's
 * companion, each window's memory resource lands where _CRS computed it at run time, at BAR0 of the
 * function the firmware placed (window i at BAR0 + i * 0x200, nested in the BAR's resource), and the
 * real virtio_mmio driver probes it there. The function in the slot is QEMU's pci-testdev (a 4 KiB
 * memory BAR0): it is no virtio-mmio device, so the probe stops at the magic value, which is the proof
 * that the driver read the window at the BAR. A declared slot with no function stays absent (_STA 0:
 * in the namespace, but no platform device).
 */
class MmioSsdtGuestIT {
    private static final int SLOT = 4;
    private static final int EMPTY_SLOT = 9;
    private static final int WINDOWS = 2;

    private GuestKit kit;

    @TempDir
    Path tmp;

    @BeforeEach
    void kit() {
        kit = GuestKit.get();
    }

    @Test
    void guestLoadsTheTableAndFindsEachWindowAtTheBar() throws Exception {
        Path table = tmp.resolve("vmmio.aml");
        Files.write(table, MmioSsdt.builder().slot(SLOT, WINDOWS).slot(EMPTY_SLOT, 1).build());

        String script = String.join("\n",
                "dmesg | grep -E 'ACPI: SSDT|ACPI (BIOS )?(Error|Warning)|virtio-mmio' | sed 's/^\\[[ 0-9.]*\\] /DMESG /'",
                "for d in /sys/bus/acpi/devices/LNRO0005:*; do",
                "  [ -e \"$d\" ] && echo \"ACPIDEV $(basename $d) $(cat $d/path) $(cat $d/status) $(cat $d/uid)\"",
                "done",
                "for d in /sys/bus/platform/devices/LNRO0005:*; do [ -e \"$d\" ] && echo \"PLATFORM $(basename $d)\"; done",
                "grep -E 'LNRO0005|0000:00:0" + Integer.toHexString(SLOT) + ".0' /proc/iomem"
                        + " | awk '{ match($0, /^ */); print \"IOMEM \" RLENGTH \" \" $1 \" \" $3 }'",
                "echo \"BAR0 $(head -n1 /sys/bus/pci/devices/0000:00:0" + Integer.toHexString(SLOT) + ".0/resource)\"",
                "exit 0",
                "");
        Guest.Result r = kit.guest()
                .name("mmio-ssdt")
                .script(script)
                .qemuArgs("-acpitable", "file=" + table, "-device", "pci-testdev,addr=" + SLOT)
                .timeout(java.time.Duration.ofSeconds(300))
                .run();
        System.out.println(r);
        r.assertSuccess();

        // loaded, and nothing in it made the interpreter complain
        check(r, r.console().contains("ACPI: SSDT") && r.console().contains("JVIRTO JVMMIO"),
                "the kernel did not list jvirtio's SSDT");
        List<String> complaints = new ArrayList<>(r.linesStartingWith("DMESG ACPI Error"));
        complaints.addAll(r.linesStartingWith("DMESG ACPI BIOS Error"));
        complaints.addAll(r.linesStartingWith("DMESG ACPI Warning"));
        check(r, complaints.isEmpty(), "ACPI complained: " + complaints);

        // the namespace: one present device per window of the populated slot; the empty slot's window is
        // in the namespace with status 0 (its _STA), so no platform device and no resources for it
        List<String> devices = r.linesStartingWith("ACPIDEV ");
        check(r, devices.size() == WINDOWS + 1, "expected " + (WINDOWS + 1) + " LNRO0005 devices: " + devices);
        String absent = "LNRO0005:0" + WINDOWS + " " + MmioSsdt.windowDevicePath(EMPTY_SLOT, 0) + " 0 " + WINDOWS;
        check(r, devices.contains(absent), "missing '" + absent + "' in " + devices);
        check(r, r.linesStartingWith("PLATFORM ").size() == WINDOWS,
                "a platform device for the empty slot: " + r.linesStartingWith("PLATFORM "));
        for (int w = 0; w < WINDOWS; w++) {
            String expected = "LNRO0005:0" + w + " " + MmioSsdt.windowDevicePath(SLOT, w) + " 15 " + w;
            check(r, devices.contains(expected), "missing '" + expected + "' in " + devices);
            check(r, r.linesStartingWith("PLATFORM ").contains("LNRO0005:0" + w),
                    "no platform device for window " + w);
        }

        // where _CRS put the windows: BAR0 of the function, as the firmware placed it
        Matcher bar = Pattern.compile("0x([0-9a-f]+) 0x([0-9a-f]+)").matcher(r.value("BAR0 "));
        check(r, bar.find(), "no BAR0 line");
        long barStart = Long.parseLong(bar.group(1), 16);
        check(r, barStart != 0, "BAR0 unassigned");
        // each line: indentation, range, owner
        List<String> iomem = r.linesStartingWith("IOMEM ");
        String barLine = iomem.stream().filter(l -> l.endsWith(" 0000:00:0" + Integer.toHexString(SLOT) + ".0"))
                .findFirst().orElseThrow(() -> r.failure("BAR0 not in /proc/iomem: " + iomem));
        int barIndent = indent(barLine);
        for (int i = 0; i < WINDOWS; i++) {
            int w = i;
            long start = barStart + (long) w * MmioSsdt.WINDOW_SIZE;
            String window = String.format("%08x-%08x LNRO0005:%02x", start, start + MmioSsdt.WINDOW_SIZE - 1, w);
            String line = iomem.stream().filter(l -> l.endsWith(window)).findFirst()
                    .orElseThrow(() -> r.failure("window " + w + " not at " + window + ": " + iomem));
            check(r, indent(line) > barIndent, "window " + w + " not nested in the BAR's resource: " + iomem);
        }

        // the real virtio_mmio driver probed each window and read its registers (pci-testdev answers 0)
        for (int w = 0; w < WINDOWS; w++) {
            String probe = "DMESG virtio-mmio LNRO0005:0" + w + ": Wrong magic value";
            check(r, !r.linesStartingWith(probe).isEmpty(), "virtio_mmio did not probe window " + w);
        }
    }

    private static int indent(String iomemLine) {
        return Integer.parseInt(iomemLine.split(" ")[0]);
    }
}
