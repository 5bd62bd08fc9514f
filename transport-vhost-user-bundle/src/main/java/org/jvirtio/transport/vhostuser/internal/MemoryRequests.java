package org.jvirtio.transport.vhostuser.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;

import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.nativeio.NativeException;
import org.jvirtio.nativeio.NativeFd;

/**
 * SET_MEM_TABLE, ADD_MEM_REG, REM_MEM_REG and the dirty-log area (SET_LOG_BASE, SET_LOG_FD). Each
 * checks its payload before it changes anything; runs under the connection lock.
 */
final class MemoryRequests {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.vhostuser");
    private final Connection c;
    private final RingControl rings;
    /** Regions added again while mapped (see {@link #addMemReg}), by how many times more. */
    private final IdentityHashMap<MemoryRegion, Integer> extraReferences = new IdentityHashMap<>();
    private MappedMemory log;
    private NativeFd logFd;

    MemoryRequests(Connection connection, RingControl rings) {
        this.c = connection;
        this.rings = rings;
    }

    Result setMemTable(Message m) throws Failure {
        ByteBuffer p = m.payload();
        if (m.size() < 8) {
            throw new Failure("payload of " + m.size() + " bytes, expected at least 8");
        }
        int count = p.getInt(0);
        if (count < 1 || count > Message.MAX_FDS) {
            throw new Failure(Integer.toUnsignedString(count) + " regions, expected 1 to " + Message.MAX_FDS);
        }
        if (m.size() != 8 + count * MemoryRegion.WIRE_SIZE) {
            throw new Failure("payload of " + m.size() + " bytes for " + count + " regions, expected "
                    + (8 + count * MemoryRegion.WIRE_SIZE));
        }
        if (m.fdCount() != count) {
            throw new Failure(m.fdCount() + " file descriptors for " + count + " regions");
        }
        List<MemoryRegion> mapped = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                mapped.add(region(p, 8 + i * MemoryRegion.WIRE_SIZE, m.takeFd(i)));
            }
            install(MemoryTable.of(mapped));
            extraReferences.clear(); // a whole new table: every region once
            mapped.clear();
            return Result.OK;
        } finally {
            mapped.forEach(MemoryRegion::close);
        }
    }

    private MemoryRegion region(ByteBuffer p, int at, NativeFd fd) throws Failure {
        try {
            MemoryRegion region = MemoryRegion.map(p.getLong(at), p.getLong(at + 8), p.getLong(at + 16),
                    p.getLong(at + 24), fd);
            if (!region.sealedAgainstShrinking()) {
                LOG.log(Level.INFO, "{0}: {1}: its file is not sealed against shrinking (seals: {2}); a front end"
                        + " that truncates it makes accesses to it fail and the device need a reset",
                        c.name, region, region.seals());
            }
            return region;
        } finally {
            fd.close(); // the mapping keeps the file
        }
    }

    /**
     * Adds a region. QEMU 7.2 sends each region once per vhost device, and a multi-queue net device
     * is one vhost device per queue pair on one connection: a region identical to one already mapped
     * (address, size, user address, file offset) is that region again, counted, not refused as an
     * overlap. REM_MEM_REG then removes it on its last reference.
     */
    Result addMemReg(Message m) throws Failure {
        ByteBuffer p = m.payload();
        MemoryRegion same = c.table.find(p.getLong(8), p.getLong(16), p.getLong(24));
        if (same != null && same.mmapOffset() == p.getLong(32)) {
            m.takeFd(0).close();
            extraReferences.merge(same, 1, Integer::sum);
            return Result.OK;
        }
        MemoryRegion region = region(p, 8, m.takeFd(0));
        try {
            install(c.table.with(region));
            region = null;
            return Result.OK;
        } finally {
            if (region != null) {
                region.close();
            }
        }
    }

    Result remMemReg(ByteBuffer p) throws Failure {
        MemoryRegion region = c.table.find(p.getLong(8), p.getLong(16), p.getLong(24));
        if (region == null) {
            throw new Failure("no region [gpa 0x" + Long.toHexString(p.getLong(8)) + ", size 0x"
                    + Long.toHexString(p.getLong(16)) + ", uva 0x" + Long.toHexString(p.getLong(24)) + "]");
        }
        Integer extra = extraReferences.get(region);
        if (extra != null) {
            if (extra == 1) {
                extraReferences.remove(region);
            } else {
                extraReferences.put(region, extra - 1);
            }
            return Result.OK; // another vhost device of the front end still has it
        }
        install(c.table.without(region));
        return Result.OK;
    }

    /** Installs a new table, rebuilds the started rings over it, retires and (when safe) unmaps the old regions. */
    private void install(MemoryTable next) {
        MemoryTable old = c.table;
        c.table = next;
        c.memory.replace(next.map());
        rings.rebuildStarted();
        c.retire(old.dropped(next));
        c.releaseRetired();
    }

    Result setLogBase(Message m) throws Failure {
        ByteBuffer p = m.payload();
        long size = p.getLong(0);
        long offset = p.getLong(8);
        NativeFd fd = m.takeFd(0);
        try {
            if (size <= 0 || offset < 0 || size > Long.MAX_VALUE - offset || (offset & (MappedMemory.pageSize() - 1)) != 0) {
                throw new Failure("bad log area: size " + size + ", offset " + offset);
            }
            if (MemoryRegion.fileSize(fd) < offset + size) {
                throw new Failure("log area of " + size + " bytes at " + offset + " does not fit its file");
            }
            MappedMemory next;
            try {
                next = MappedMemory.map(fd, offset, size, true);
            } catch (NativeException e) {
                throw new Failure("log area is not mappable", e);
            }
            closeLogMapping();
            log = next;
            // Dirty logging itself is not implemented: VHOST_F_LOG_ALL is never offered.
            return Result.u64(0);
        } finally {
            fd.close();
        }
    }

    Result setLogFd(Message m) {
        replaceLogFd(m.takeFd(0));
        return Result.OK;
    }

    private void replaceLogFd(NativeFd fd) {
        if (logFd != null) {
            logFd.close();
        }
        logFd = fd;
    }

    private void closeLogMapping() {
        if (log != null) {
            log.close();
            log = null;
        }
    }

    /** Releases the log area and descriptor (connection end). */
    void closeLog() {
        closeLogMapping();
        replaceLogFd(null);
    }
}
