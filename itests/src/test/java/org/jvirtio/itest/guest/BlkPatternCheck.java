package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.bytes;
import static org.jvirtio.itest.guest.GuestChecks.check;
import static org.jvirtio.itest.guest.GuestChecks.md5;
import static org.jvirtio.itest.guest.GuestChecks.writeAndReadBackLines;

import java.nio.ByteBuffer;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

import org.jvirtio.device.blk.BlockDevice;
import org.jvirtio.device.blk.BlockDeviceOptions;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;

/**
 * The virtio-blk check the real-guest tests run on every transport: a 16 MiB disk in memory; the guest
 * sees its capacity, writes a pattern with O_DIRECT and reads it back, and the host finds the pattern
 * in its disk. Three parts: {@link #addFileTo} and {@link #guestLines()} for the guest, {@link #verify}
 * once the guest has ended.
 */
final class BlkPatternCheck {
    private static final int DISK = 16 << 20;
    private static final int BLOCK = 64 << 10;
    private static final int OFFSET = 1 << 20;
    private static final int PATTERN = 512 << 10;
    private static final String FILE = "/data/pattern.bin";

    private final byte[] pattern;
    private final MemoryBackend disk = MemoryBackend.of(DISK, true);
    private final BlockDevice device;

    /** A disk with serial {@code serial} and split or packed rings offered; {@code seed} picks the pattern. */
    BlkPatternCheck(String serial, boolean packed, long seed) {
        pattern = bytes(PATTERN, seed);
        device = new BlockDevice(disk, BlockDeviceOptions.builder().serial(serial).packed(packed).build());
    }

    BlockDevice device() {
        return device;
    }

    /** Puts the pattern where {@link #guestLines()} reads it. */
    Guest.Builder addFileTo(Guest.Builder guest) {
        return guest.file(FILE, pattern);
    }

    /** The guest's part, once virtio_blk is bound: the capacity, then the pattern written and read back. */
    static String guestLines() {
        return String.join("\n",
                "waitfor /dev/vda 30",
                "echo \"SECTORS $(cat /sys/block/vda/size)\"",
                writeAndReadBackLines("BLK-READBACK-MD5", FILE, "/dev/vda", OFFSET, BLOCK, PATTERN));
    }

    /** The capacity, the bytes read back in the guest, and the bytes on the host's disk. */
    void verify(Guest.Result r) throws NoSuchAlgorithmException {
        check(r, r.value("SECTORS ").equals(Integer.toString(DISK / 512)), "capacity");
        check(r, r.value("BLK-READBACK-MD5 ").equals(md5(pattern)), "the guest read back other bytes");
        ByteBuffer onDisk = ByteBuffer.allocate(PATTERN);
        disk.read(OFFSET, onDisk);
        check(r, Arrays.equals(pattern, onDisk.array()), "the host disk holds what the guest wrote");
    }
}
