package org.jvirtio.api;

/** Virtio device ids (virtio 1.2 section 5): the "device type" a transport reports. */
public final class VirtioDeviceId {
    public static final int NET = 1;
    public static final int BLOCK = 2;
    public static final int CONSOLE = 3;
    public static final int ENTROPY = 4;
    public static final int BALLOON = 5;
    public static final int SCSI = 8;
    public static final int GPU = 16;
    public static final int INPUT = 18;
    public static final int VSOCK = 19;
    public static final int FS = 26;

    private VirtioDeviceId() {
    }
}
