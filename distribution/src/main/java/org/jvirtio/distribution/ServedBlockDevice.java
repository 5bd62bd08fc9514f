package org.jvirtio.distribution;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.jvirtio.device.blk.BlockDevice;
import org.jvirtio.device.blk.BlockDeviceOptions;
import org.jvirtio.device.blk.backend.BlockBackend;
import org.jvirtio.device.blk.backend.file.FileBackend;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.device.blk.backend.nulldisk.NullBackend;
import org.jvirtio.transport.vhostuser.VhostUserBackend;

/**
 * One {@link BlkDeviceSpec} brought to life: its block backend, the virtio-blk device, the vhost-user
 * back end (listening, or with {@code client=on} connecting to QEMU's socket).
 */
final class ServedBlockDevice implements ServedDevice {
    private static final int BLOCK_SIZE = 512;

    private final BlkDeviceSpec spec;
    private final BlockBackend storage;
    private final BlockDevice device;
    private final VhostUserBackend server;

    private ServedBlockDevice(BlkDeviceSpec spec, BlockBackend storage, BlockDevice device, VhostUserBackend server) {
        this.spec = spec;
        this.storage = storage;
        this.device = device;
        this.server = server;
    }

    /**
     * Opens the backend and starts listening (or, in client mode, connecting: a QEMU not there yet is
     * waited for, not an error).
     *
     * @throws UsageException if the spec cannot work with what is on disk (a missing image without size=)
     * @throws IOException    if the image or the socket cannot be opened
     */
    static ServedBlockDevice start(BlkDeviceSpec spec) throws UsageException, IOException {
        BlockBackend storage = open(spec);
        try {
            BlockDevice device = new BlockDevice(storage, BlockDeviceOptions.builder().queues(spec.queues())
                    .serial(spec.id()).readOnly(spec.readOnly()).packed(spec.packed()).build());
            VhostUserBackend server = spec.client()
                    ? VhostUserBackend.connect(device, spec.socket(), Duration.ofSeconds(spec.reconnectSeconds()))
                    : VhostUserBackend.start(device, spec.socket());
            return new ServedBlockDevice(spec, storage, device, server);
        } catch (IOException | RuntimeException e) {
            storage.close();
            throw e;
        }
    }

    private static BlockBackend open(BlkDeviceSpec spec) throws UsageException, IOException {
        String name = "--device blk id=" + spec.id();
        switch (spec.backend()) {
            case MEMORY:
                try {
                    return MemoryBackend.of(spec.size(), true);
                } catch (OutOfMemoryError e) {
                    throw new IOException("cannot allocate " + spec.size()
                            + " bytes of direct memory for the memory disk (raise -XX:MaxDirectMemorySize)");
                }
            case NULL:
                return new NullBackend(spec.size(), spec.readOnly(), BLOCK_SIZE);
            case FILE:
            default:
                Path path = spec.path();
                boolean exists = Files.exists(path);
                if (!exists && spec.size() == 0) {
                    throw new UsageException(name + ": " + path + " does not exist (give size=BYTES to create it)");
                }
                if (!exists && spec.readOnly()) {
                    throw new UsageException(name + ": " + path + " does not exist (a read-only image is not created)");
                }
                if (exists && !Files.isRegularFile(path)) {
                    throw new UsageException(name + ": " + path + " is not a regular file");
                }
                if (exists && spec.size() == 0 && Files.size(path) < BLOCK_SIZE) {
                    throw new UsageException(name + ": " + path + " is smaller than one sector (give size=BYTES)");
                }
                return new FileBackend(path, spec.size(), !exists, spec.readOnly(), BLOCK_SIZE, false);
        }
    }

    @Override
    public BlkDeviceSpec spec() {
        return spec;
    }

    @Override
    public String describe() {
        String where = switch (spec.backend()) {
            case FILE -> "file " + spec.path();
            case MEMORY -> "memory";
            case NULL -> "null";
        };
        long bytes = device.capacitySectors() * 512;
        return spec.id() + ": " + where + ", " + bytes + " bytes (" + device.capacitySectors() + " sectors), "
                + spec.queues() + (spec.queues() == 1 ? " queue" : " queues")
                + (spec.readOnly() || storage.isReadOnly() ? ", read-only" : ", read-write")
                + (spec.client() ? ", connecting to QEMU's socket " + server.socketPath() + " (every "
                        + spec.reconnectSeconds() + " s until it listens)" : ", socket " + server.socketPath());
    }

    /** Stops serving (the guest's connection ends, the device resets), then flushes and closes the backend. */
    @Override
    public void close() throws IOException {
        try {
            server.close();
        } finally {
            try {
                if (!storage.isReadOnly()) {
                    storage.flush();
                }
            } finally {
                storage.close();
            }
        }
    }
}
