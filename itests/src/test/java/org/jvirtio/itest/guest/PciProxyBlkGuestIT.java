package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.bytes;
import static org.jvirtio.itest.guest.GuestChecks.check;
import static org.jvirtio.itest.guest.GuestChecks.md5;
import static org.jvirtio.itest.guest.GuestChecks.virtioDevicesLines;
import static org.jvirtio.itest.guest.GuestChecks.writeAndReadBackLines;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.jvirtio.device.blk.BlockDevice;
import org.jvirtio.device.blk.BlockDeviceOptions;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.transport.pci.VirtioPciFunction;
import org.jvirtio.transport.pci.proxy.ProxySlot;
import org.jvirtio.transport.pci.proxy.QemuProxyHost;

/**
 * jvirtio's virtio-blk over jvirtio's virtio-pci function, served from this JVM to a real Linux guest
 * through QEMU's multi-process proxy ({@code x-pci-proxy-dev}): QEMU boots paused with QMP and qtest
 * sockets, the proxy attaches the function at slot 4 ({@code getfd} + {@code device_add}) and resumes
 * the guest; interrupts go through qtest (TCG has no irqfd). Two functions, two slots (4 and 5), one
 * QEMU: the guest's virtio_pci driver binds both, virtio_blk creates /dev/vda and /dev/vdb, the guest
 * writes a different pattern to each with O_DIRECT and reads it back, and the host finds each in its
 * own memory disk. Once with MSI-X, once with INTx ({@code pci=nomsi}): the guest's /proc/interrupts
 * shows which one carried each device's interrupts.
 */
class PciProxyBlkGuestIT {
    private static final int DISK = 16 << 20;
    private static final int BLOCK = 64 << 10;
    private static final int OFFSET = 1 << 20;
    private static final int PATTERN = 512 << 10;

    private GuestKit kit;

    @TempDir
    Path tmp;

    @BeforeEach
    void kit() {
        kit = GuestKit.get();
    }

    @ParameterizedTest(name = "msix={0}")
    @ValueSource(booleans = {true, false})
    void guestWritesAndReadsBackThroughTheProxy(boolean msix) throws Exception {
        String name = "pci-proxy-blk-" + (msix ? "msix" : "intx");
        byte[][] patterns = {bytes(PATTERN, msix ? 17 : 23), bytes(PATTERN, msix ? 29 : 31)};
        MemoryBackend[] backends = {MemoryBackend.of(DISK, true), MemoryBackend.of(DISK, true)};
        List<ProxySlot> slots = List.of(
                new ProxySlot("blk0", 4, VirtioPciFunction.factory(new BlockDevice(backends[0],
                        BlockDeviceOptions.builder().serial("jvirtio-pci-0").build()), "blk0")),
                new ProxySlot("blk1", 5, VirtioPciFunction.factory(new BlockDevice(backends[1],
                        BlockDeviceOptions.builder().serial("jvirtio-pci-1").build()), "blk1")));
        ProxySockets sockets = new ProxySockets(tmp);
        StringBuilder lines = new StringBuilder();
        for (int d = 0; d < 2; d++) {
            String vd = "vd" + (char) ('a' + d);
            lines.append(String.join("\n",
                    "echo \"SECTORS-" + d + " $(cat /sys/block/" + vd + "/size)\"",
                    "echo \"SERIAL-" + d + " $(cat /sys/block/" + vd + "/serial)\"",
                    writeAndReadBackLines("READBACK-MD5-" + d, "/data/pattern" + d + ".bin", "/dev/" + vd, OFFSET,
                            BLOCK, PATTERN),
                    ""));
        }
        String script = String.join("\n",
                "set -e",
                "waitfor /dev/vda 60",
                "waitfor /dev/vdb 60",
                virtioDevicesLines(),
                lines.toString(),
                "grep virtio /proc/interrupts | sed 's/^/IRQ /'",
                "");
        Guest.Result r;
        try (Guest.Running guest = kit.guest()
                .name(name)
                .script(script)
                .file("/data/pattern0.bin", patterns[0])
                .file("/data/pattern1.bin", patterns[1])
                .kernelArgs(msix ? "" : "pci=nomsi")
                .timeout(Duration.ofSeconds(300))
                .qemuArgs(sockets.qemuArgs())
                .start()) {
            try (QemuProxyHost host = sockets.attach(slots)) {
                r = guest.await();
                ProxySockets.checkCounters(r, host, name, msix);
            }
        }
        System.out.println(r);
        r.assertSuccess();
        List<String> devices = r.linesStartingWith("VIRTIO-DEV ");
        check(r, devices.size() == 2 && devices.stream().allMatch(l -> l.contains(" 0x0002 virtio_blk ")),
                "two virtio-blk devices bound to virtio_blk: " + devices);
        for (int d = 0; d < 2; d++) {
            check(r, r.value("SECTORS-" + d).equals(Integer.toString(DISK / 512)), "capacity of device " + d);
            check(r, r.value("SERIAL-" + d).equals("jvirtio-pci-" + d), "serial of device " + d);
            assertEquals(md5(patterns[d]), r.value("READBACK-MD5-" + d));
            ByteBuffer onDisk = ByteBuffer.allocate(PATTERN);
            backends[d].read(OFFSET, onDisk);
            assertArrayEquals(patterns[d], onDisk.array(), "host disk " + d + " holds what the guest wrote to it");
        }
        List<String> irqs = r.linesStartingWith("IRQ ");
        for (String dev : List.of("virtio0", "virtio1")) {
            if (msix) {
                check(r, irqs.stream().anyMatch(l -> l.contains("PCI-MSI") && l.contains(dev + "-req")),
                        "MSI-X vectors for the queue of " + dev + ": " + irqs);
            } else {
                check(r, irqs.stream().anyMatch(l -> l.contains("IO-APIC") && l.contains(dev)),
                        "INTx through the IOAPIC for " + dev + ": " + irqs);
            }
        }
        if (!msix) {
            check(r, irqs.stream().noneMatch(l -> l.contains("MSI")), "no MSI: " + irqs);
        }
    }
}
