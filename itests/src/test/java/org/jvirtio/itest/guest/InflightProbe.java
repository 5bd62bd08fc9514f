package org.jvirtio.itest.guest;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;

/**
 * Reads QEMU's copy of a vhost-user back end's in-flight area (INFLIGHT_SHMFD): the memfd the back end
 * created and QEMU keeps across back-end restarts, opened through {@code /proc/<qemu>/fd}. Layouts of
 * vhost-user.rst "Inflight I/O tracking": per queue a header (u64 features, u16 version = 1, u16
 * desc_num, ...; 16 bytes for split rings, 32 for packed) and desc_num descriptor states (16 / 32 bytes)
 * whose first byte is {@code inflight} and whose u64 at 8 is the fetch counter, the region padded to
 * 64 bytes. Split: {@code last_batch_head} at 12, {@code used_idx} at 14; packed: {@code used_idx} at
 * 16 (an entry marked in flight there may belong to a batch being published, which a restarted back end
 * rolls forward instead of resubmitting).
 */
final class InflightProbe {
    /** The name jvirtio's back end gives the memfd ({@code Memfd.create}). */
    private static final String MEMFD = "/memfd:vhost-user-inflight";

    private final long qemuPid;
    private final int header;
    private final int descState;
    private MappedByteBuffer area;

    InflightProbe(long qemuPid, boolean packed) {
        this.qemuPid = qemuPid;
        this.header = packed ? 32 : 16;
        this.descState = packed ? 32 : 16;
    }

    /** Finds and maps the area QEMU holds now; false if it holds none or /proc does not let us see it. */
    boolean locate() {
        try {
            return find();
        } catch (IOException e) {
            System.out.println("in-flight area of QEMU " + qemuPid + " not readable: " + e);
            return false;
        }
    }

    private boolean find() throws IOException {
        area = null;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Paths.get("/proc", Long.toString(qemuPid), "fd"))) {
            for (Path fd : fds) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    continue; // closed meanwhile
                }
                if (target.startsWith(MEMFD)) {
                    try (FileChannel ch = FileChannel.open(fd, StandardOpenOption.READ)) {
                        area = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
                        area.order(ByteOrder.LITTLE_ENDIAN);
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * Per queue: {@code used_idx}, {@code last_batch_head} and the heads marked in flight with their
     * counters (fetch order), e.g. {@code q0 used_idx=312 last_batch_head=5 in flight [7:301, 8:302]}.
     */
    String describe() {
        StringBuilder b = new StringBuilder();
        int offset = 0;
        for (int q = 0; offset + 16 <= area.capacity(); q++) {
            int descNum = area.getShort(offset + 10) & 0xFFFF;
            if (area.getShort(offset + 8) != 1 || descNum == 0) {
                break;
            }
            b.append(q == 0 ? "" : "; ").append('q').append(q);
            if (header == 16) {
                b.append(" used_idx=").append(area.getShort(offset + 14) & 0xFFFF)
                        .append(" last_batch_head=").append(area.getShort(offset + 12) & 0xFFFF);
            } else {
                b.append(" used_idx=").append(area.getShort(offset + 16) & 0xFFFF);
            }
            b.append(" in flight [");
            String sep = "";
            for (int d = 0; d < descNum; d++) {
                int state = offset + header + descState * d;
                if (area.get(state) != 0) {
                    b.append(sep).append(d).append(':').append(area.getLong(state + 8));
                    sep = ", ";
                }
            }
            b.append(']');
            offset += (header + descState * descNum + 63) & -64;
        }
        return b.toString();
    }

    /** Descriptors marked in flight over all queues (the back end should be stopped meanwhile). */
    int inFlight() {
        int n = 0;
        int offset = 0;
        while (offset + 16 <= area.capacity()) {
            int version = area.getShort(offset + 8);
            int descNum = area.getShort(offset + 10) & 0xFFFF;
            if (version != 1 || descNum == 0) {
                break;
            }
            for (int d = 0; d < descNum; d++) {
                if (area.get(offset + header + descState * d) != 0) {
                    n++;
                }
            }
            offset += (header + descState * descNum + 63) & -64;
        }
        return n;
    }
}
