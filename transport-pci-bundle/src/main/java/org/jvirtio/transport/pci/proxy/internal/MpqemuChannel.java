package org.jvirtio.transport.pci.proxy.internal;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.nativeio.UnixSocket;

/**
 * The framing of QEMU's mpqemu channel: a 16-byte header, {@code size} bytes of payload, and the
 * descriptors that rode along ({@code SCM_RIGHTS}, on the header's first byte when QEMU sends them).
 * <pre>
 *  0        4        8                 16
 *  +--------+--------+-----------------+------------------+
 *  |  cmd   |  pad   |   size (u64)    | payload (size)   |
 *  +--------+--------+-----------------+------------------+
 * </pre>
 * Buffers are allocated once: reading a message and writing a RET allocate nothing beyond what the
 * socket does for received descriptors.
 *
 * <p>What breaks the stream (its position in the byte stream can no longer be trusted) throws
 * {@link ChannelBroken}: a size larger than any command's payload, more descriptors than a message
 * may carry, end of stream inside a message. Whether a whole message makes sense is the caller's
 * business ({@link Command#check}). One thread reads and replies.
 */
final class MpqemuChannel implements AutoCloseable {
    static final int HEADER_SIZE = 16;
    /** The largest payload of any command (SYNC_SYSMEM): QEMU's own receiver refuses more. */
    static final int MAX_PAYLOAD = SysmemLayout.SIZE;
    /** Descriptors one message may carry (QEMU's REMOTE_MAX_FDS). */
    static final int MAX_FDS = SysmemLayout.MAX_REGIONS;

    /** Passed explicitly: a call with no descriptors would otherwise allocate an empty varargs array. */
    private static final NativeFd[] NO_FDS = {};

    private final UnixSocket socket;
    private final ByteBuffer header = ByteBuffer.allocateDirect(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer payload = ByteBuffer.allocateDirect(MAX_PAYLOAD).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer reply = ByteBuffer.allocateDirect(HEADER_SIZE + 8).order(ByteOrder.LITTLE_ENDIAN);
    private final List<NativeFd> fds = new ArrayList<>(MAX_FDS);
    private int command;
    private long size;

    MpqemuChannel(UnixSocket socket) {
        this.socket = socket;
    }

    /**
     * Reads the next message; its parts are then {@link #command()}, {@link #size()},
     * {@link #payload()} and {@link #fds()}. The descriptors of the previous message must have been
     * taken or closed ({@link #closeFds()}) before.
     *
     * @return false at a clean end of stream (between messages)
     * @throws ChannelBroken if the stream ends inside a message or breaks its framing
     * @throws IOException   if the socket fails
     */
    boolean next() throws IOException {
        header.clear();
        payload.clear().limit(0);
        try {
            int first = socket.receive(header, fds, MAX_FDS);
            if (first < 0) {
                return false;
            }
            socket.receiveFully(header, fds, MAX_FDS - fds.size());
            command = header.getInt(0);
            size = header.getLong(8);
            if (size < 0 || size > MAX_PAYLOAD) {
                throw new ChannelBroken("message " + command + " announces a payload of "
                        + Long.toUnsignedString(size) + " bytes, at most " + MAX_PAYLOAD);
            }
            payload.limit((int) size);
            socket.receiveFully(payload, fds, MAX_FDS - fds.size());
            payload.flip();
            return true;
        } catch (EOFException e) {
            closeFds();
            throw new ChannelBroken("end of stream inside a message", e);
        } catch (ChannelBroken e) {
            closeFds();
            throw e;
        } catch (IOException e) {
            closeFds();
            if (String.valueOf(e.getMessage()).contains("truncated")) {
                throw new ChannelBroken("more than " + MAX_FDS + " file descriptors in one message", e);
            }
            throw e;
        }
    }

    /** The command code of the message read last (any int: the peer chose it). */
    int command() {
        return command;
    }

    /** Its payload size in bytes. */
    long size() {
        return size;
    }

    /** Its payload, position 0, limit {@link #size()}, little-endian. */
    ByteBuffer payload() {
        return payload;
    }

    /** Its descriptors, owned by the channel until taken: set a taken slot to null. */
    List<NativeFd> fds() {
        return fds;
    }

    /** Closes the descriptors of the message read last that nobody took. */
    void closeFds() {
        if (fds.isEmpty()) {
            return; // the common case, and no iterator allocated for it
        }
        for (int i = 0; i < fds.size(); i++) {
            NativeFd fd = fds.get(i);
            if (fd != null) {
                fd.close();
            }
        }
        fds.clear();
    }

    /** Sends RET carrying {@code value}. */
    void reply(long value) throws IOException {
        reply.clear();
        reply.putInt(0, Command.RET.code()).putInt(4, 0).putLong(8, 8).putLong(16, value);
        socket.send(reply, NO_FDS);
    }

    /**
     * Wakes a reader blocked in {@link #next()} and releases the socket. Safe from any thread; the
     * reading thread closes the descriptors of its last message itself.
     */
    @Override
    public void close() {
        socket.close();
    }
}
