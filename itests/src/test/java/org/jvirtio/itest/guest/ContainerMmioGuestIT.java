package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.check;
import static org.jvirtio.itest.guest.GuestChecks.virtioDevicesLines;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container attaching virtio-mmio devices to a real QEMU, as README's "Attaching QEMU over
 * virtio-mmio" says: {@code jvirtio.jar --mmio-ssdt FILE --device ...} writes the ACPI table and exits;
 * QEMU boots paused with {@code -acpitable file=FILE}, QMP and qtest sockets and shareable memory; the
 * container is started with the same {@code --device}s: a blk and a console (socket backend), both
 * {@code transport=mmio} in slot 5 (windows 0 and 1 of its BAR), and a balloon over {@code transport=pci}
 * at slot 6 of the same QEMU. The mmio slot and the PCI function join one group: the guest is resumed
 * once, after both are attached. In the guest virtio_mmio binds both windows (two {@code LNRO0005}
 * platform devices), virtio_pci the balloon; text written to {@code /dev/hvc0} arrives on the console's
 * socket and the disk reads back what the guest wrote.
 */
class ContainerMmioGuestIT {
    private static final String GREETING = ContainerGuest.GREETING;
    private static final String MMIO = ",transport=mmio,qmp=QMP,qtest=QTEST,slot=5";

    @TempDir
    Path tmp;

    @Test
    void containerAttachesTwoMmioWindowsAndAPciFunctionToAPausedQemu() throws Exception {
        String[] devices = {
            "blk,id=blk0" + MMIO + ",size=16M",
            "console,id=con0" + MMIO + ",backend=socket,path=CONSOLE",
            "balloon,id=bal0,transport=pci,qmp=QMP,qtest=QTEST,slot=6"};
        ContainerGuest guest = new ContainerGuest(tmp);
        Path ssdt = tmp.resolve("jvirtio-ssdt.aml");
        List<String> cmd = new ArrayList<>(List.of(BackEndProcess.java(), "-jar",
                BackEndProcess.containerJar().toString(), "--mmio-ssdt", ssdt.toString()));
        cmd.addAll(guest.deviceArgs(devices));
        Path out = tmp.resolve("ssdt.out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        require(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, "--mmio-ssdt exits 0: " + Files.readString(out));
        require(Files.size(ssdt) > 36 && Files.readString(out).contains("slot 5: window 0 blk blk0 window 1 console con0"),
                "--mmio-ssdt wrote the table: " + Files.readString(out));

        String script = String.join("\n",
                "set -e",
                "waitfor /dev/vda 120",
                "waitfor /dev/hvc0 60",
                "for d in /sys/bus/platform/devices/LNRO0005:*; do",
                "  drv=none; [ -e $d/driver ] && drv=$(basename $(readlink $d/driver))",
                "  echo \"PLATFORM $(basename $d) $drv\"",
                "done",
                virtioDevicesLines(),
                "echo '" + GREETING + "' > /dev/hvc0",
                "dd if=/dev/urandom of=/tmp/p.bin bs=4096 count=16 2>/dev/null",
                "dd if=/tmp/p.bin of=/dev/vda bs=4096 oflag=direct conv=fsync 2>/dev/null",
                "echo \"WROTE $(md5sum < /tmp/p.bin | cut -d' ' -f1)\"",
                "echo \"READ $(dd if=/dev/vda bs=4096 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)\"",
                "");
        ContainerGuest.Run run = guest.run("container-mmio", script, List.of("-acpitable", "file=" + ssdt), devices);
        Guest.Result r = run.guest();
        r.assertSuccess();
        List<String> platform = r.linesStartingWith("PLATFORM ");
        check(r, platform.equals(List.of("LNRO0005:00 virtio-mmio", "LNRO0005:01 virtio-mmio")),
                "both windows bound by virtio-mmio: " + platform);
        List<String> devicesSeen = r.linesStartingWith("VIRTIO-DEV ");
        check(r, devicesSeen.size() == 3, "three virtio devices: " + devicesSeen);
        check(r, devicesSeen.stream().anyMatch(l -> l.contains(" 0x0002 virtio_blk ") && l.contains(" virtio-mmio LNRO0005:00")),
                "blk in window 0 under virtio-mmio: " + devicesSeen);
        check(r, devicesSeen.stream().anyMatch(l -> l.contains(" 0x0003 virtio_console ") && l.contains(" virtio-mmio LNRO0005:01")),
                "console in window 1 under virtio-mmio: " + devicesSeen);
        check(r, devicesSeen.stream().anyMatch(l -> l.contains(" 0x0005 virtio_balloon ") && l.contains(" virtio-pci ")),
                "balloon under virtio-pci: " + devicesSeen);
        check(r, run.console().contains(GREETING), "the guest's hvc0 text on the console socket: '" + run.console()
                + "'\n" + run.log());
        check(r, r.value("WROTE").equals(r.value("READ")), "the disk reads back what the guest wrote");
        List<String> resumes = run.log().lines().filter(l -> l.contains("guest resumed with")).toList();
        check(r, resumes.size() == 1 && resumes.get(0).contains("guest resumed with 2 jvirtio PCI device(s): ")
                && resumes.get(0).contains("jvirtio-mmio-slot5") && resumes.get(0).contains("bal0"),
                "the container resumed the guest once, after the mmio slot and the PCI function: " + resumes);
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
