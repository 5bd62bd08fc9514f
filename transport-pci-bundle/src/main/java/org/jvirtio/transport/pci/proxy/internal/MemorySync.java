package org.jvirtio.transport.pci.proxy.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.vring.memory.GuestMemoryMap;
import org.jvirtio.vring.memory.GuestRegion;
import org.jvirtio.vring.memory.SwappableGuestMemory;

/**
 * Keeps the function's view of guest memory in step with SYNC_SYSMEM. Each message describes the
 * whole of guest RAM again; the new map is built from files already mapped wherever the descriptor
 * names a known file ({@link MappedFile}), so a re-sent table maps nothing. A message that does not
 * make sense (a region outside its file, overlapping regions, a descriptor that is not a file) is
 * refused whole and the map in force stays.
 *
 * <p>A file the new map no longer uses is retired, not unmapped: a worker of the function may still
 * hold a snapshot with views into it, and {@code PciFunction} has no "queues stopped" moment other than
 * {@link #releaseRetired() reset}. Retired mappings cost address space only (their pages are the
 * guest's, shared with QEMU), and QEMU rarely drops a file (memory hot-unplug).
 *
 * <p>One thread (the connection's) calls everything here.
 */
final class MemorySync implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("org.jvirtio.transport.pci.proxy");

    private final SwappableGuestMemory memory = new SwappableGuestMemory(GuestMemoryMap.EMPTY);
    private final ProxyCounters counters;
    private final Map<MappedFile.Key, MappedFile> live = new HashMap<>();
    private final List<MappedFile> retired = new ArrayList<>();

    MemorySync(ProxyCounters counters) {
        this.counters = counters;
    }

    /** The guest memory handed to the function: its map is replaced on every accepted SYNC_SYSMEM. */
    SwappableGuestMemory memory() {
        return memory;
    }

    /**
     * Applies one SYNC_SYSMEM. Every descriptor in {@code fds} is closed before this returns, used or not.
     *
     * @return null if the new map is in force, else why the message was refused
     */
    String apply(ByteBuffer payload, List<NativeFd> fds) {
        Map<MappedFile.Key, MappedFile> fresh = new HashMap<>();
        try {
            List<GuestRegion> regions = new ArrayList<>(fds.size());
            for (int i = 0; i < fds.size(); i++) {
                long gpa = payload.getLong(SysmemLayout.guestAddress(i));
                long size = payload.getLong(SysmemLayout.size(i));
                long offset = payload.getLong(SysmemLayout.fileOffset(i));
                MappedFile file = fileOf(fds.get(i), fresh);
                if (gpa < 0 || size <= 0 || size > Long.MAX_VALUE - gpa || offset < 0 || offset > file.size()
                        || size > file.size() - offset) {
                    return "region " + i + " [gpa 0x" + Long.toHexString(gpa) + ", size 0x" + Long.toHexString(size)
                            + ", offset 0x" + Long.toHexString(offset) + "] is not inside its " + file;
                }
                regions.add(new GuestRegion(gpa, size, file.mapping(), offset));
            }
            GuestMemoryMap next;
            try {
                next = GuestMemoryMap.of(regions);
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
            install(next, fresh);
            fresh.clear();
            return null;
        } catch (IOException | RuntimeException e) {
            return "descriptor not mappable as guest memory: " + e.getMessage();
        } finally {
            fresh.values().forEach(MappedFile::close); // mapped for a refused message
            for (int i = 0; i < fds.size(); i++) {
                NativeFd fd = fds.get(i);
                if (fd != null) {
                    fd.close();
                    fds.set(i, null);
                }
            }
        }
    }

    /** The mapping of {@code fd}'s file: one in force, one mapped earlier in this message, or a new one. */
    private MappedFile fileOf(NativeFd fd, Map<MappedFile.Key, MappedFile> fresh) throws IOException {
        MappedFile.Key key = MappedFile.identify(fd);
        MappedFile known = live.get(key);
        if (known == null) {
            known = fresh.get(key);
        }
        if (known == null) {
            known = MappedFile.map(key, fd);
            fresh.put(key, known);
            if (!known.sealedAgainstShrinking()) {
                LOG.log(System.Logger.Level.WARNING, "guest memory " + known
                        + " is not sealed against shrinking: if its owner truncates it, an access faults");
            }
        }
        return known;
    }

    private void install(GuestMemoryMap next, Map<MappedFile.Key, MappedFile> fresh) {
        memory.replace(next);
        live.putAll(fresh);
        counters.filesMapped.addAndGet(fresh.size());
        List<MappedFile.Key> used = new ArrayList<>();
        for (GuestRegion r : next.regions()) {
            for (MappedFile f : live.values()) {
                if (f.mapping() == r.backing()) {
                    used.add(f.key());
                }
            }
        }
        live.entrySet().removeIf(e -> {
            if (used.contains(e.getKey())) {
                return false;
            }
            retired.add(e.getValue());
            counters.filesRetired.incrementAndGet();
            return true;
        });
    }

    /** Files mapped and in use by the current map. */
    int liveFiles() {
        return live.size();
    }

    /** Files no longer in the map, still mapped. */
    int retiredFiles() {
        return retired.size();
    }

    /** Unmaps the retired files: call only when the function holds no view of guest memory (after its reset). */
    void releaseRetired() {
        retired.forEach(MappedFile::close);
        retired.clear();
    }

    /** Empties the map and unmaps every file: once the function has been reset for good. */
    @Override
    public void close() {
        memory.replace(GuestMemoryMap.EMPTY);
        retired.addAll(live.values());
        live.clear();
        releaseRetired();
    }
}
