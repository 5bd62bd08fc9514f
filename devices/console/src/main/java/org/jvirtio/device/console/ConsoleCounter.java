package org.jvirtio.device.console;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * What a virtio-console device counts, per queue (and a few per device). Each way a driver can get
 * something wrong has its own counter, so misbehaviour shows up by name; the queue keeps working after
 * every one of them.
 */
public enum ConsoleCounter {
    /** Kicks delivered by the transport. */
    KICKS,
    /** Used-buffer notifications sent to the driver. */
    INTERRUPTS,

    // port transmitq (guest output)
    TX_BYTES,
    /** A transmit chain with device-writable descriptors: dropped, used with length 0. */
    TX_WRITABLE_DESCRIPTOR,
    /** A descriptor that left guest memory while it was read: the rest of the chain is dropped. */
    TX_GUEST_MEMORY,
    /** A transmit chain on the queue of a port the device does not have (no backend): dropped. */
    TX_NO_PORT,

    // port receiveq (host input)
    RX_BYTES,
    /** A receive chain with no device-writable byte: used with length 0. */
    RX_CHAIN_NOT_WRITABLE,
    /** A receive chain with writable room but device-readable descriptors too: used with length 0. */
    RX_CHAIN_READABLE,
    /** A descriptor that left guest memory while it was written: used with length 0, the bytes offered again. */
    RX_GUEST_MEMORY,
    /** A kick on the receive queue of a port the device does not have. */
    RX_NO_PORT,
    /** Host input waited for the guest: an offer found no free receive buffer (back-pressure, not an error). */
    RX_NO_ROOM,

    // control transmitq (guest to host messages)
    CTRL_MESSAGES,
    /** A control message shorter than its 8-byte header: dropped. */
    CTRL_SHORT,
    /** A control chain with device-writable descriptors: dropped. */
    CTRL_WRITABLE_DESCRIPTOR,
    /** An event the driver does not send (or no event at all): dropped. */
    CTRL_UNKNOWN_EVENT,
    /** A port id not below max_nr_ports: dropped. */
    CTRL_BAD_PORT_ID,
    /** PORT_READY or PORT_OPEN for a port the device never added: dropped. */
    CTRL_PORT_NOT_ADDED,
    /** DEVICE_READY with value 0: the driver failed to set the device up. */
    CTRL_DEVICE_FAILED,
    /** PORT_READY with value 0: the driver failed to set the port up. */
    CTRL_PORT_FAILED,
    /** A descriptor that left guest memory while a message was read. */
    CTRL_GUEST_MEMORY,

    // control receiveq (host to guest messages)
    CTRL_SENT,
    /** A control receive chain with no device-writable byte (or readable parts): used with length 0. */
    CTRL_RX_CHAIN_NOT_WRITABLE,
    /** A control receive chain too small for the message: used with length 0, the message kept. */
    CTRL_RX_CHAIN_TOO_SMALL,
    /** Messages for the guest beyond what the device keeps while the driver posts no buffers: dropped. */
    CTRL_OUTBOX_FULL,

    // device
    /** Characters written to emerg_wr. */
    EMERG_WRITES,
    /** A kick for a queue the device does not serve (beyond its queues, or a MULTIPORT queue without MULTIPORT). */
    KICK_NO_QUEUE;

    /** The counters of malformed input from the driver: none moves while a healthy driver runs. */
    public static final Set<ConsoleCounter> MALFORMED = Collections.unmodifiableSet(EnumSet.of(TX_WRITABLE_DESCRIPTOR,
            TX_GUEST_MEMORY, TX_NO_PORT, RX_CHAIN_NOT_WRITABLE, RX_CHAIN_READABLE, RX_GUEST_MEMORY, RX_NO_PORT,
            CTRL_SHORT, CTRL_WRITABLE_DESCRIPTOR, CTRL_UNKNOWN_EVENT, CTRL_BAD_PORT_ID, CTRL_PORT_NOT_ADDED,
            CTRL_GUEST_MEMORY, CTRL_RX_CHAIN_NOT_WRITABLE, CTRL_RX_CHAIN_TOO_SMALL, KICK_NO_QUEUE));
}
