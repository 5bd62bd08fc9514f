package org.jvirtio.transport.pci.proxy.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.jvirtio.nativeio.FileSeals;
import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.nativeio.NativeException;
import org.jvirtio.nativeio.NativeFd;

/**
 * One file of guest RAM (QEMU's memfd or shared file), mapped whole, once. SYNC_SYSMEM arrives about
 * fifty times per boot, each time with fresh duplicates of the same descriptors; a file is known again
 * by its device and inode, so re-sent regions reuse the mapping instead of mapping again.
 *
 * <p>The file's size is read when it is mapped; a region is accepted only inside it. If the peer could
 * shrink the file later, a touch of a page past the new end would raise SIGBUS: QEMU seals its memfds
 * against shrinking ({@link #sealedAgainstShrinking}); a file without that seal is logged.
 */
final class MappedFile implements AutoCloseable {

    /** Identity of an open file: device and inode. */
    record Key(long device, long inode) {
    }

    private final Key key;
    private final MappedMemory mapping;
    private final boolean sealed;

    private MappedFile(Key key, MappedMemory mapping, boolean sealed) {
        this.key = key;
        this.mapping = mapping;
        this.sealed = sealed;
    }

    /** The identity and size of the file behind {@code fd} (stat through /proc/self/fd follows to it). */
    static Key identify(NativeFd fd) throws IOException {
        Map<String, Object> stat = Files.readAttributes(Path.of("/proc/self/fd/" + fd.value()), "unix:dev,ino");
        return new Key(((Number) stat.get("dev")).longValue(), ((Number) stat.get("ino")).longValue());
    }

    /**
     * Maps all of {@code fd}'s file, shared and writable.
     *
     * @throws IOException if it has no size (not a file: a socket, an eventfd) or cannot be mapped
     */
    static MappedFile map(Key key, NativeFd fd) throws IOException {
        long size = fd.size();
        if (size <= 0) {
            throw new IOException("descriptor " + fd + " is not a file of guest memory (size " + size + ")");
        }
        int seals;
        try {
            seals = FileSeals.of(fd);
        } catch (NativeException e) {
            seals = FileSeals.UNSUPPORTED;
        }
        return new MappedFile(key, MappedMemory.map(fd, 0, size, true), FileSeals.preventsShrinking(seals));
    }

    Key key() {
        return key;
    }

    MappedMemory mapping() {
        return mapping;
    }

    long size() {
        return mapping.size();
    }

    boolean sealedAgainstShrinking() {
        return sealed;
    }

    /** Unmaps; only once no reader can still hold a view of it. */
    @Override
    public void close() {
        mapping.close();
    }

    @Override
    public String toString() {
        return "file[dev " + key.device + ", ino " + key.inode + ", " + mapping.size() + " bytes]";
    }
}
