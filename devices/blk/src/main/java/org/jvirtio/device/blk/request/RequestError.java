package org.jvirtio.device.blk.request;

import static org.jvirtio.device.blk.request.BlockProtocol.S_IOERR;
import static org.jvirtio.device.blk.request.BlockProtocol.S_UNSUPP;

/**
 * Why one request failed, and the status byte the driver gets for it. Each kind has its own counter;
 * none of them stops the queue.
 */
public enum RequestError {
    NONE((byte) 0, "no error"),

    // --- malformed requests: the parser's verdicts on what the driver wrote ---
    NO_STATUS_BYTE((byte) -1, "no device-writable byte for the status: completed without one"),
    HEADER_TOO_SHORT(S_IOERR, "fewer than 16 device-readable bytes for the header"),
    WRONG_DIRECTION(S_IOERR, "data in the wrong direction (readable data on IN or GET_ID, writable data on OUT)"),
    DATA_NOT_SECTOR_MULTIPLE(S_IOERR, "data length not a multiple of 512"),
    OUT_OF_RANGE(S_IOERR, "sector range past the capacity, or overflowing"),
    READ_ONLY(S_IOERR, "write, discard or write-zeroes on a read-only device"),
    UNSUPPORTED_TYPE(S_UNSUPP, "unknown request type, or one whose feature was not negotiated"),
    SEGMENTS_MALFORMED(S_IOERR, "discard/write-zeroes data empty or not a whole number of 16-byte segments"),
    TOO_MANY_SEGMENTS(S_IOERR, "more segments than max_discard_seg / max_write_zeroes_seg"),
    SEGMENT_TOO_LARGE(S_IOERR, "a segment over max_discard_sectors / max_write_zeroes_sectors"),
    SEGMENT_FLAGS_UNSUPPORTED(S_UNSUPP, "unknown segment flags, or UNMAP on a discard"),

    // --- execution ---
    GUEST_MEMORY(S_IOERR, "guest memory changed under the request (unmapped during the copy)"),
    BACKEND_IO(S_IOERR, "the backend failed the request");

    private final byte status;
    private final String description;

    RequestError(byte status, String description) {
        this.status = status;
        this.description = description;
    }

    /** The status byte to write; meaningless for {@link #NO_STATUS_BYTE}. */
    public byte status() {
        return status;
    }

    public String description() {
        return description;
    }
}
