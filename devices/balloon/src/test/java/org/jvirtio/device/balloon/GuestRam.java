package org.jvirtio.device.balloon;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.nativeio.Memfd;
import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.vring.memory.GuestMemoryMap;
import org.jvirtio.vring.memory.GuestRegion;

/**
 * Guest memory as QEMU gives it to a device: a memfd, mapped shared, as region 0 at {@link #BASE}; rings
 * and buffers come from the bottom of it ({@link #allocate}), pages to balloon from the top
 * ({@link #page}). More regions (each its own memfd) may follow. {@link #allocatedBytes} asks the kernel
 * how much memory the memfd holds ({@code st_blocks}), which only a hole punched in it lowers.
 */
final class GuestRam implements AutoCloseable {
    static final long BASE = 0x4000_0000L;
    static final long PAGE = 4096;

    private final List<AutoCloseable> owned = new ArrayList<>();
    private final NativeFd fd;
    private final MappedMemory mapping;
    private final long size;
    private final List<GuestRegion> regions = new ArrayList<>();
    private GuestMemoryMap map;
    private long next = BASE;

    /** Region 0: {@code size} bytes (a multiple of 4 KiB) of a fresh memfd. */
    GuestRam(long size) throws IOException {
        this(size, size);
    }

    /** Region 0: the first {@code regionSize} bytes of a memfd of {@code fileSize} bytes. */
    GuestRam(long fileSize, long regionSize) throws IOException {
        fd = Memfd.create("balloon-test", fileSize);
        owned.add(fd);
        mapping = MappedMemory.map(fd, 0, fileSize, true);
        owned.add(mapping);
        size = regionSize;
        regions.add(new GuestRegion(BASE, regionSize, mapping, 0));
        map = GuestMemoryMap.of(regions);
    }

    /** Adds a region of {@code size} bytes (its own memfd) at {@code guestAddress}. */
    GuestRam addRegion(long guestAddress, long size) throws IOException {
        NativeFd extra = Memfd.create("balloon-test-extra", size);
        owned.add(extra);
        MappedMemory m = MappedMemory.map(extra, 0, size, true);
        owned.add(m);
        regions.add(new GuestRegion(guestAddress, m));
        map = GuestMemoryMap.of(regions);
        return this;
    }

    GuestMemoryMap map() {
        return map;
    }

    /** First address past region 0. */
    long end() {
        return BASE + size;
    }

    /** Guest address of page {@code k} counted down from the top of region 0 (k = 1 is the last whole page). */
    long page(int k) {
        return ((BASE + size) & -PAGE) - k * PAGE;
    }

    long allocate(long length, int alignment) {
        long at = (next + alignment - 1) & -alignment;
        if (at + length > end()) {
            throw new IllegalStateException("guest memory exhausted");
        }
        next = at + length;
        return at;
    }

    long store(byte[] bytes) {
        long at = allocate(bytes.length, 8);
        map.write(at, bytes, 0, bytes.length);
        return at;
    }

    /** Fills the page at {@code address} with {@code value} (so that the host must hold it). */
    void fill(long address, byte value) {
        byte[] page = new byte[(int) PAGE];
        java.util.Arrays.fill(page, value);
        map.write(address, page, 0, page.length);
    }

    /** Whether every byte of the page at {@code address} is {@code value}. */
    boolean pageIs(long address, byte value) {
        byte[] page = new byte[(int) PAGE];
        map.read(address, page, 0, page.length);
        for (byte b : page) {
            if (b != value) {
                return false;
            }
        }
        return true;
    }

    /** Bytes of host memory region 0's memfd holds ({@code st_blocks * block size}). */
    long allocatedBytes() throws IOException, InterruptedException {
        Process stat = new ProcessBuilder("stat", "-L", "--format=%b %B",
                "/proc/" + ProcessHandle.current().pid() + "/fd/" + fd.value()).redirectErrorStream(true).start();
        String out = new String(stat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        if (stat.waitFor() != 0) {
            throw new IOException("stat failed: " + out);
        }
        String[] blocksAndUnit = out.split(" ");
        return Long.parseLong(blocksAndUnit[0]) * Long.parseLong(blocksAndUnit[1]);
    }

    @Override
    public void close() throws Exception {
        for (int i = owned.size() - 1; i >= 0; i--) {
            owned.get(i).close();
        }
    }
}
