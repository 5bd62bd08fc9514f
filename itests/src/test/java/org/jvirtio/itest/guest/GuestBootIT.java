package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.bytes;
import static org.jvirtio.itest.guest.GuestChecks.check;
import static org.jvirtio.itest.guest.GuestChecks.md5;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;

import org.jvirtio.api.VirtioDeviceId;
import org.jvirtio.api.VirtioFeature;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves the guest kit with QEMU's own virtio-blk (no jvirtio code yet): the real Linux virtio_pci and
 * virtio_blk drivers in a TCG guest write a known pattern to /dev/vda and read it back, read a region
 * the host wrote, and the host checks the image file afterwards; once over a split ring and once over a
 * packed ring (checked in the negotiated feature bits). Later tests attach jvirtio's vhost-user devices
 * the same way.
 */
class GuestBootIT {
    private static final int IMAGE_SIZE = 8 << 20;
    private static final int BLOCK = 64 << 10;
    /** The guest writes {@link #PATTERN_SIZE} bytes at this offset. */
    private static final int GUEST_OFFSET = 1 << 20;
    private static final int PATTERN_SIZE = 1 << 20;
    /** The host writes {@link #HOST_SIZE} bytes here before boot; the guest reads them. */
    private static final int HOST_OFFSET = 4 << 20;
    private static final int HOST_SIZE = 256 << 10;

    private GuestKit kit;

    @TempDir
    Path tmp;

    /** Per test (not @BeforeAll), so that a missing QEMU shows as skipped tests locally. */
    @BeforeEach
    void kit() {
        kit = GuestKit.get();
    }

    @Test
    void virtioBlkSplitRing() throws Exception {
        roundTrip("blk-split", "virtio-blk-pci,drive=d0", false);
    }

    @Test
    void virtioBlkPackedRing() throws Exception {
        roundTrip("blk-packed", "virtio-blk-pci,drive=d0,packed=on", true);
    }

    private void roundTrip(String name, String device, boolean packed) throws Exception {
        byte[] pattern = bytes(PATTERN_SIZE, 0x6a76697274696fL);
        byte[] hostData = bytes(HOST_SIZE, 42);
        Path img = tmp.resolve(name + ".raw");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(IMAGE_SIZE);
            f.seek(HOST_OFFSET);
            f.write(hostData);
        }

        String script = String.join("\n",
                "set -e",
                "waitfor /dev/vda 30",
                "for d in /sys/bus/virtio/devices/*; do",
                "  drv=none; [ -e $d/driver ] && drv=$(basename $(readlink $d/driver))",
                "  echo \"VIRTIO-DEV $(basename $d) $(cat $d/device) $drv $(cat $d/features)\"",
                "done",
                "echo \"VDA-SECTORS $(cat /sys/block/vda/size)\"",
                "echo \"PATTERN-MD5 $(md5sum /data/pattern.bin | cut -d' ' -f1)\"",
                "dd if=/data/pattern.bin of=/dev/vda bs=" + BLOCK + " seek=" + GUEST_OFFSET / BLOCK
                        + " conv=fsync 2>/dev/null",
                "echo 3 > /proc/sys/vm/drop_caches",
                "echo \"READBACK-MD5 $(dd if=/dev/vda bs=" + BLOCK + " skip=" + GUEST_OFFSET / BLOCK
                        + " count=" + PATTERN_SIZE / BLOCK + " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)\"",
                "echo \"HOSTDATA-MD5 $(dd if=/dev/vda bs=" + BLOCK + " skip=" + HOST_OFFSET / BLOCK
                        + " count=" + HOST_SIZE / BLOCK + " iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)\"",
                "");

        Guest.Result r = kit.guest()
                .name(name)
                .script(script)
                .file("/data/pattern.bin", pattern)
                .qemuArgs("-drive", "file=" + img + ",if=none,id=d0,format=raw,cache=writeback",
                        "-device", device)
                .run();
        System.out.println(r);
        r.assertSuccess();

        // the guest saw a virtio block device bound to virtio_blk, with the expected ring format
        List<String> devs = r.linesStartingWith("VIRTIO-DEV ");
        String blk = devs.stream()
                .filter(l -> l.split(" ")[1].equals(String.format("0x%04x", VirtioDeviceId.BLOCK)))
                .findFirst()
                .orElseThrow(() -> r.failure("no virtio block device in /sys/bus/virtio/devices: " + devs));
        String[] f = blk.split(" ");
        check(r, "virtio_blk".equals(f[2]), "block device not bound to virtio_blk: " + blk);
        String features = f[3];
        check(r, features.charAt(VirtioFeature.VERSION_1) == '1', "VERSION_1 not negotiated: " + blk);
        check(r, (features.charAt(VirtioFeature.RING_PACKED) == '1') == packed,
                "RING_PACKED " + (packed ? "not " : "") + "negotiated: " + blk);
        check(r, Long.parseLong(r.value("VDA-SECTORS ")) == IMAGE_SIZE / 512,
                "capacity mismatch: " + r.value("VDA-SECTORS "));

        // guest -> device -> guest, and host -> guest
        String md5 = md5(pattern);
        check(r, md5.equals(r.value("PATTERN-MD5 ")), "pattern damaged in the initramfs");
        check(r, md5.equals(r.value("READBACK-MD5 ")), "guest read back something else than it wrote");
        check(r, md5(hostData).equals(r.value("HOSTDATA-MD5 ")), "guest read something else than the host wrote");

        // guest -> host: the image file holds the pattern, and nothing else was touched
        try (RandomAccessFile file = new RandomAccessFile(img.toFile(), "r")) {
            assertEquals(IMAGE_SIZE, file.length());
            byte[] got = new byte[PATTERN_SIZE];
            file.seek(GUEST_OFFSET);
            file.readFully(got);
            assertArrayEquals(pattern, got, "image file does not hold the guest's pattern");
            byte[] head = new byte[GUEST_OFFSET];
            file.seek(0);
            file.readFully(head);
            assertArrayEquals(new byte[GUEST_OFFSET], head, "guest wrote outside its region");
            byte[] host = new byte[HOST_SIZE];
            file.seek(HOST_OFFSET);
            file.readFully(host);
            assertArrayEquals(hostData, host, "host region changed");
        }
    }
}
