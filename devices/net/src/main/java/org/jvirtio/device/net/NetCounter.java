package org.jvirtio.device.net;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * What a queue counts. Each drop reason has its own counter, so that a misbehaving driver (or a full
 * receive ring) shows up by name; the queue keeps working after every one of them.
 */
public enum NetCounter {
    /** Kicks delivered by the transport. */
    KICKS,
    /** Used-buffer notifications sent to the driver. */
    INTERRUPTS,

    // transmit queues
    TX_FRAMES,
    TX_BYTES,
    /** Chain shorter than the 12-byte virtio-net header. */
    TX_SHORT_HEADER,
    /** Frame shorter than an Ethernet header (14 bytes). */
    TX_SHORT_FRAME,
    /**
     * Frame longer than MTU + 14 + 4 (VLAN), or, with HOST_TSO negotiated, a chain longer than
     * MAX_GSO_FRAME (a segment of more than 64 KiB).
     */
    TX_LONG_FRAME,
    /** Header asks for a GSO type (or ECN) that was not negotiated. */
    TX_GSO_NOT_NEGOTIATED,
    /** Header asks for GSO with gso_size 0, or without NEEDS_CSUM (virtio 1.2 section 5.1.6.2.1). */
    TX_BAD_GSO,
    /** Header's hdr_len lies beyond the frame. */
    TX_BAD_HDR_LEN,
    /** Header asks for a checksum (NEEDS_CSUM), which was not negotiated. */
    TX_CSUM_NOT_NEGOTIATED,
    /** NEEDS_CSUM with a checksum field (csum_start + csum_offset + 2) beyond the frame. */
    TX_BAD_CSUM_OFFSETS,
    /** Chain has device-writable descriptors. */
    TX_WRITABLE_DESCRIPTOR,
    /** A descriptor outside guest memory (checked again at the copy). */
    TX_GUEST_MEMORY,

    // receive queues
    RX_FRAMES,
    RX_BYTES,
    /** A frame arrived and no (or not enough) rx buffer was available: dropped. */
    RX_NO_BUFFER,
    /** Chain with no writable space or less than the header: used with length 0. */
    RX_CHAIN_TOO_SMALL,
    /** Chain with device-readable descriptors: used with length 0. */
    RX_CHAIN_READABLE,
    /** A frame longer than the negotiated maximum, from the backend: dropped. */
    RX_LONG_FRAME,
    /** A descriptor outside guest memory while writing a frame. */
    RX_GUEST_MEMORY,
    /** The driver's receive filter (CTRL_RX: promiscuous, all-multicast, MAC table) did not want the frame. */
    RX_FILTERED,
    /**
     * The backend's header asked for an offload the driver has not enabled (NEEDS_CSUM without
     * GUEST_CSUM, a GSO type without GUEST_TSO), or its offsets lie beyond the frame: dropped.
     */
    RX_BAD_HEADER,

    // control queue
    CTRL_COMMANDS,
    /** Class or command unknown or not negotiated: VIRTIO_NET_ERR. */
    CTRL_UNKNOWN,
    /** Command data of the wrong length: VIRTIO_NET_ERR. */
    CTRL_BAD_LENGTH,
    /** Command data out of range (VQ_PAIRS_SET, GUEST_OFFLOADS_SET): VIRTIO_NET_ERR. */
    CTRL_BAD_VALUE,
    /** No writable byte for the ack: the command is not executed. */
    CTRL_NO_ACK,
    /** A descriptor outside guest memory. */
    CTRL_GUEST_MEMORY;

    /**
     * The counters of malformed input on the data path (chains, frames, headers from the driver or
     * the backend): none moves while healthy peers talk. Full rings and filtered frames are not here.
     */
    public static final Set<NetCounter> MALFORMED = Collections.unmodifiableSet(EnumSet.of(TX_SHORT_HEADER,
            TX_SHORT_FRAME, TX_LONG_FRAME, TX_GSO_NOT_NEGOTIATED, TX_BAD_GSO, TX_BAD_HDR_LEN, TX_CSUM_NOT_NEGOTIATED,
            TX_BAD_CSUM_OFFSETS, TX_WRITABLE_DESCRIPTOR, TX_GUEST_MEMORY, RX_CHAIN_TOO_SMALL, RX_CHAIN_READABLE,
            RX_LONG_FRAME, RX_GUEST_MEMORY, RX_BAD_HEADER));
}
