package org.jvirtio.device.blk.request;

/**
 * One parsed request, as a reusable flyweight: the parser fills it, the executor reads it, the next
 * request overwrites it. Discard and write-zeroes segments are copied out of guest memory into arrays
 * sized once for the negotiated limits, so that what is executed is exactly what was checked even if
 * the driver rewrites the segments meanwhile.
 */
public final class BlockRequest {
    private final long[] segmentSector;
    private final long[] segmentSectors;
    private final boolean[] segmentUnmap;

    int type;
    long sector;
    long dataLength;
    long statusAddress;
    int segmentCount;

    public BlockRequest(int maxSegments) {
        segmentSector = new long[maxSegments];
        segmentSectors = new long[maxSegments];
        segmentUnmap = new boolean[maxSegments];
    }

    void clear() {
        type = -1;
        sector = 0;
        dataLength = 0;
        statusAddress = -1;
        segmentCount = 0;
    }

    void setSegment(int i, long sector, long sectors, boolean unmap) {
        segmentSector[i] = sector;
        segmentSectors[i] = sectors;
        segmentUnmap[i] = unmap;
    }

    int segmentCapacity() {
        return segmentSector.length;
    }

    /** The request type (BlockProtocol.T_*). */
    public int type() {
        return type;
    }

    /** The first sector (IN, OUT). */
    public long sector() {
        return sector;
    }

    /**
     * Bytes of data: for IN and GET_ID the writable bytes before the status; for OUT the readable bytes
     * after the header.
     */
    public long dataLength() {
        return dataLength;
    }

    /** Guest address of the status byte, or -1 if the chain has none. */
    public long statusAddress() {
        return statusAddress;
    }

    public int segmentCount() {
        return segmentCount;
    }

    public long segmentSector(int i) {
        return segmentSector[i];
    }

    public long segmentSectors(int i) {
        return segmentSectors[i];
    }

    public boolean segmentUnmap(int i) {
        return segmentUnmap[i];
    }
}
