package org.jvirtio.platform.shell;

import java.util.Comparator;
import java.util.List;
import java.util.Map;

import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.api.management.QueueStatistics;
import org.jvirtio.api.management.ServedDevice;

/** What the shell prints: devices as a table, one device's queues and counters. Pure text. */
public final class DeviceTable {
    private DeviceTable() {
    }

    static String list(List<ServedDevice> devices) {
        StringBuilder b = new StringBuilder(String.format("%-12s %-8s %-11s %-13s %-18s %6s  %s%n", "ID", "TYPE",
                "TRANSPORT", "STATE", "FEATURES", "QUEUES", "ADDRESS"));
        devices.stream().sorted(Comparator.comparing(ServedDevice::id)).forEach(d -> b.append(String.format(
                "%-12s %-8s %-11s %-13s 0x%016x %6d  %s%n", d.id(), typeName(d.deviceType()), d.transport(),
                d.state(), d.negotiatedFeatures(), d.queueCount(), d.address())));
        return b.toString();
    }

    static String stats(ServedDevice d) {
        StringBuilder b = new StringBuilder(String.format("%s (%s, %s, %s)%n", d.id(), typeName(d.deviceType()),
                d.transport(), d.state()));
        b.append(String.format("%5s %12s %12s %14s %14s %10s %12s %12s %7s%n", "QUEUE", "CHAINS", "COMPLETED",
                "BYTES-READ", "BYTES-WRITTEN", "KICKS", "INTERRUPTS", "SUPPRESSED", "ERRORS"));
        for (int i = 0; i < d.queueCount(); i++) {
            QueueStatistics q = d.queueStatistics(i);
            b.append(String.format("%5d %12d %12d %14d %14d %10d %12d %12d %7d%n", i, q.chains(), q.completed(),
                    q.bytesRead(), q.bytesWritten(), q.kicks(), q.interrupts(), q.suppressed(), q.errors()));
        }
        Map<String, Long> counters = d.deviceCounters();
        if (!counters.isEmpty()) {
            b.append("device counters:");
            counters.forEach((name, value) -> {
                if (value != 0) {
                    b.append(' ').append(name).append('=').append(value);
                }
            });
            b.append(String.format("%n"));
        }
        return b.toString();
    }

    /** {@code net}, {@code blk}, ... for a virtio device id. */
    public static String typeName(int deviceType) {
        return switch (deviceType) {
            case VirtioDeviceId.NET -> "net";
            case VirtioDeviceId.BLOCK -> "blk";
            case 0 -> "-";
            default -> "id " + deviceType;
        };
    }
}
