package org.jvirtio.device.blk.worker;

/**
 * The device's cache mode, shared by all its queues: in write-through mode every write is flushed
 * before it completes. The driver can switch it at run time through the writeback config field
 * (VIRTIO_BLK_F_CONFIG_WCE), so workers read it once per write request.
 */
public final class WriteCache {
    private volatile boolean writeThrough;

    public WriteCache(boolean writeThrough) {
        this.writeThrough = writeThrough;
    }

    public boolean writeThrough() {
        return writeThrough;
    }

    public void setWriteThrough(boolean writeThrough) {
        this.writeThrough = writeThrough;
    }
}
