package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.check;
import static org.jvirtio.itest.guest.GuestChecks.virtioDevicesLines;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container ({@code java -jar jvirtio.jar}) attaching its devices to a real QEMU over virtio-pci,
 * as a user does it: QEMU boots paused ({@code -S}) with QMP and qtest sockets and shareable memory;
 * the container is started with a console (socket backend), a blk, a net (sink) and a balloon device,
 * all {@code transport=pci} on that QEMU at slots 5 to 8. Its PCI transport components share one QMP
 * connection, attach the four functions and resume the guest once all are attached. In the guest
 * virtio_pci binds each (virtio_console, virtio_blk, virtio_net, virtio_balloon), text the guest writes to {@code /dev/hvc0}
 * arrives on the console's UNIX socket, and the blk device reads back what the guest wrote to it.
 * Errors stay with their device: a slot QEMU refuses and a QMP socket with no QEMU behind it are
 * logged naming the device, and the other devices are attached and the guest resumed.
 */
class ContainerPciGuestIT {
    private static final String GREETING = ContainerGuest.GREETING;

    @TempDir
    Path tmp;

    @Test
    void containerAttachesFourDevicesToAPausedQemu() throws Exception {
        String script = String.join("\n",
                "set -e",
                "waitfor /dev/vda 60",
                "waitfor /dev/hvc0 60",
                virtioDevicesLines(),
                "echo '" + GREETING + "' > /dev/hvc0",
                "dd if=/dev/urandom of=/tmp/p.bin bs=4096 count=16 2>/dev/null",
                "dd if=/tmp/p.bin of=/dev/vda bs=4096 oflag=direct conv=fsync 2>/dev/null",
                "echo \"WROTE $(md5sum < /tmp/p.bin | cut -d' ' -f1)\"",
                "echo \"READ $(dd if=/dev/vda bs=4096 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)\"",
                "");
        ContainerGuest.Run run = run("container-pci", script, "console,id=con0" + PCI + ",slot=5,backend=socket,path=" + CONSOLE,
                "blk,id=blk0" + PCI + ",slot=6,size=16M",
                "net,id=net0" + PCI + ",slot=7,backend=sink",
                "balloon,id=bal0" + PCI + ",slot=8");
        Guest.Result r = run.guest();
        r.assertSuccess();
        check(r, run.console().contains(GREETING), "the guest's hvc0 text on the console socket: '" + run.console()
                + "'\n" + run.log());
        List<String> devices = r.linesStartingWith("VIRTIO-DEV ");
        check(r, devices.size() == 4, "four virtio devices: " + devices);
        check(r, devices.stream().anyMatch(l -> l.contains(" 0x0003 virtio_console ")), "console bound: " + devices);
        check(r, devices.stream().anyMatch(l -> l.contains(" 0x0002 virtio_blk ")), "blk bound: " + devices);
        check(r, devices.stream().anyMatch(l -> l.contains(" 0x0001 virtio_net ")), "net bound: " + devices);
        check(r, devices.stream().anyMatch(l -> l.contains(" 0x0005 virtio_balloon ")), "balloon bound: " + devices);
        check(r, r.value("WROTE").equals(r.value("READ")), "the disk reads back what the guest wrote");
        // the devices attach in the order their components start: any
        List<String> resumes = run.log().lines().filter(l -> l.contains("guest resumed with")).toList();
        check(r, resumes.size() == 1 && resumes.get(0).contains("guest resumed with 4 jvirtio PCI device(s): ")
                && List.of("con0", "blk0", "net0", "bal0").stream().allMatch(resumes.get(0)::contains),
                "the container resumed the guest once, with all four devices: " + resumes);
    }

    /**
     * A device whose slot QEMU refuses (slot 1 is the PIIX3 bridge's) and one whose QEMU is not there
     * are logged naming them; the console of the same container is attached and the guest resumed.
     */
    @Test
    void aRefusedSlotAndAMissingQemuStayWithTheirDevices() throws Exception {
        String script = String.join("\n",
                "set -e",
                "waitfor /dev/hvc0 60",
                virtioDevicesLines(),
                "echo '" + GREETING + "' > /dev/hvc0",
                "");
        ContainerGuest.Run run = run("container-pci-errors", script,
                "console,id=con0" + PCI + ",slot=5,backend=socket,path=" + CONSOLE,
                "blk,id=taken" + PCI + ",slot=1,size=1M",
                "blk,id=lost,transport=pci,qmp=ABSENT,slot=5,size=1M");
        Guest.Result r = run.guest();
        r.assertSuccess();
        check(r, run.console().contains(GREETING), "the console works: '" + run.console() + "'\n" + run.log());
        List<String> devices = r.linesStartingWith("VIRTIO-DEV ");
        check(r, devices.size() == 1 && devices.get(0).contains(" 0x0003 virtio_console "), "only the console: "
                + devices);
        check(r, run.log().contains("taken: cannot attach at PCI slot 1 of the QEMU on"), "slot refusal logged: " + run.log());
        check(r, run.log().contains("lost: cannot connect to QEMU's QMP socket"), "missing QMP logged: " + run.log());
        check(r, run.log().contains("guest resumed with 1 jvirtio PCI device(s): con0; not attached (see above): taken"),
                "resumed with the console: " + run.log());
    }

    private static final String PCI = ",transport=pci,qmp=QMP,qtest=QTEST";
    private static final String CONSOLE = "CONSOLE";

    private ContainerGuest.Run run(String name, String script, String... devices) throws Exception {
        return new ContainerGuest(tmp).run(name, script, List.of(), devices);
    }
}
