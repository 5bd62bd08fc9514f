package org.jvirtio.distribution.container;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

import org.jvirtio.distribution.UsageException;
import org.jvirtio.platform.instance.DeviceSpecs;
import org.jvirtio.platform.instance.InstancePlan;
import org.jvirtio.transport.mmio.acpi.MmioSsdt;

/**
 * {@code --mmio-ssdt FILE}: the ACPI table ({@link MmioSsdt}) that tells a guest where the
 * {@code transport=mmio} devices of the command line are, for QEMU's {@code -acpitable file=FILE}. One
 * table is one QEMU's, so the devices must name one QMP socket; per slot it declares as many windows
 * as devices share the slot, in their window order ({@link DeviceSpecs#mmioSlots}), which is the order
 * the container serves them in, so the guest's window {@code i} is the device whose {@code window} is
 * {@code i}.
 */
final class MmioSsdtFile {
    private MmioSsdtFile() {
    }

    /** @throws UsageException if no device is {@code transport=mmio}, or they name more than one QEMU */
    static byte[] table(List<InstancePlan> devices) throws UsageException {
        Map<Path, Map<Integer, List<InstancePlan>>> qemus = DeviceSpecs.mmioSlots(devices);
        if (qemus.isEmpty()) {
            throw new UsageException("--mmio-ssdt: no --device has transport=mmio (the table declares those)");
        }
        if (qemus.size() > 1) {
            throw new UsageException("--mmio-ssdt: the transport=mmio devices name " + qemus.size()
                    + " QMP sockets " + qemus.keySet() + "; a table is one QEMU's: give the devices of one");
        }
        MmioSsdt.Builder b = MmioSsdt.builder();
        qemus.values().iterator().next().forEach((slot, windows) -> b.slot(slot, windows.size()));
        return b.build();
    }

    /**
     * Writes {@link #table} to {@code file} (next to it first, then renamed: a QEMU reading the file
     * never sees half a table).
     *
     * @return what was written, for the user: each slot and its devices in window order
     */
    static String write(Path file, List<InstancePlan> devices) throws UsageException, IOException {
        byte[] table = table(devices);
        Path absolute = file.toAbsolutePath();
        Path temporary = absolute.resolveSibling(absolute.getFileName() + ".tmp");
        Files.write(temporary, table);
        Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        StringBuilder out = new StringBuilder("jvirtio: wrote the virtio-mmio SSDT (" + table.length + " bytes) to "
                + absolute);
        DeviceSpecs.mmioSlots(devices).values().iterator().next().forEach((slot, windows) -> {
            out.append(System.lineSeparator()).append("jvirtio:   slot ").append(slot).append(':');
            windows.forEach(d -> out.append(" window ").append(d.window()).append(' ').append(d.type()).append(' ')
                    .append(d.id()));
        });
        return out.append(System.lineSeparator()).append("jvirtio: start QEMU with -acpitable file=")
                .append(absolute.toString().replace(",", ",,")).toString();
    }
}
