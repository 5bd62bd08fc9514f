package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.bytes;
import static org.jvirtio.itest.guest.GuestChecks.check;
import static org.jvirtio.itest.guest.GuestChecks.md5;
import static org.jvirtio.itest.guest.GuestChecks.negotiatedFeatures;
import static org.jvirtio.itest.guest.GuestChecks.virtioDevicesLines;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import org.jvirtio.device.blk.BlockDevice;
import org.jvirtio.device.blk.BlockDeviceOptions;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.transport.pci.VirtioPciFunction;
import org.jvirtio.transport.pci.proxy.ProxiedFunction;
import org.jvirtio.transport.pci.proxy.ProxySlot;
import org.jvirtio.transport.pci.proxy.QemuProxyHost;

/**
 * jvirtio's virtio-blk over jvirtio's virtio-pci function, served from this JVM to a real Linux guest
 * through QEMU's multi-process proxy ({@code x-pci-proxy-dev}): QEMU boots paused with QMP and qtest
 * sockets, the proxy attaches the function at slot 4 ({@code getfd} + {@code device_add}) and resumes
 * the guest; interrupts go through qtest (TCG has no irqfd). The guest's virtio_pci driver binds the
 * device, virtio_blk creates /dev/vda, the guest writes a pattern with O_DIRECT and reads it back, and
 * the host finds it in the memory disk. Once with MSI-X, once with INTx ({@code pci=nomsi}): the
 * guest's /proc/interrupts shows which one carried the device's interrupts.
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
        byte[] pattern = bytes(PATTERN, msix ? 17 : 23);
        MemoryBackend backend = MemoryBackend.of(DISK, true);
        BlockDevice device = new BlockDevice(backend, BlockDeviceOptions.builder().serial("jvirtio-pci").build());
        Path qmp = tmp.resolve("qmp.sock");
        Path qtest = tmp.resolve("qtest.sock");
        String script = String.join("\n",
                "set -e",
                "waitfor /dev/vda 60",
                virtioDevicesLines(),
                "echo \"VDA-SECTORS $(cat /sys/block/vda/size)\"",
                "echo \"VDA-SERIAL $(cat /sys/block/vda/serial)\"",
                "dd if=/data/pattern.bin of=/dev/vda bs=" + BLOCK + " seek=" + OFFSET / BLOCK
                        + " oflag=direct conv=fsync 2>/dev/null",
                "echo \"READBACK-MD5 $(dd if=/dev/vda bs=" + BLOCK + " skip=" + OFFSET / BLOCK + " count="
                        + PATTERN / BLOCK + " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)\"",
                "grep virtio /proc/interrupts | sed 's/^/IRQ /'",
                "");
        Guest.Result r;
        try (Guest.Running guest = kit.guest()
                .name(name)
                .script(script)
                .file("/data/pattern.bin", pattern)
                .kernelArgs(msix ? "" : "pci=nomsi")
                .timeout(Duration.ofSeconds(300))
                .qemuArgs("-S", "-qmp", "unix:" + qmp + ",server=on,wait=off",
                        "-qtest", "unix:" + qtest + ",server=on,wait=off", "-qtest-log", "none")
                .start()) {
            // QEMU creates its sockets at start-up; a start condition, not a measured time.
            for (int i = 0; i < 1200 && !(Files.exists(qmp) && Files.exists(qtest)); i++) {
                Thread.sleep(50);
            }
            try (QemuProxyHost host = QemuProxyHost.start(qmp, qtest,
                    List.of(new ProxySlot("blk0", 4, VirtioPciFunction.factory(device, "blk0"))),
                    Duration.ofSeconds(120))) {
                r = guest.await();
                ProxiedFunction blk = host.functions().get(0);
                System.out.println(name + ": proxy " + blk.counters() + "; function "
                        + ((VirtioPciFunction) blk.function()).counters());
                Map<String, Long> counters = blk.counters();
                check(r, counters.get("refused") == 0 && counters.get("broken") == 0,
                        "proxy refused messages: " + counters);
            }
        }
        System.out.println(r);
        r.assertSuccess();
        negotiatedFeatures(r, 2, "virtio_blk");
        check(r, r.value("VDA-SECTORS").equals(Integer.toString(DISK / 512)), "capacity");
        check(r, r.value("VDA-SERIAL").equals("jvirtio-pci"), "serial");
        assertEquals(md5(pattern), r.value("READBACK-MD5"));
        ByteBuffer onDisk = ByteBuffer.allocate(PATTERN);
        backend.read(OFFSET, onDisk);
        assertArrayEquals(pattern, onDisk.array(), "the host's disk holds what the guest wrote");
        List<String> irqs = r.linesStartingWith("IRQ ");
        if (msix) {
            check(r, irqs.stream().anyMatch(l -> l.contains("PCI-MSI") && l.contains("virtio0-req")),
                    "MSI-X vectors for the queue: " + irqs);
        } else {
            check(r, irqs.stream().anyMatch(l -> l.contains("IO-APIC") && l.contains("virtio0")),
                    "INTx through the IOAPIC: " + irqs);
            check(r, irqs.stream().noneMatch(l -> l.contains("MSI")), "no MSI: " + irqs);
        }
    }
}
