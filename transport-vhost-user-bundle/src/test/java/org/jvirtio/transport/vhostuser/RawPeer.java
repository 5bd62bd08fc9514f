package org.jvirtio.transport.vhostuser;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;

import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.nativeio.UnixSocket;
import org.jvirtio.transport.vhostuser.internal.Message;
import org.jvirtio.transport.vhostuser.internal.ProtocolFeature;
import org.jvirtio.transport.vhostuser.internal.Request;

/** A hostile front end: sends hand-made messages and reads raw replies. */
final class RawPeer implements AutoCloseable {
    final UnixSocket socket;

    RawPeer(Path path) throws IOException {
        socket = UnixSocket.connect(path);
        socket.setReceiveTimeout(Duration.ofSeconds(10));
    }

    /** GET_FEATURES, then protocol features with REPLY_ACK and SET_FEATURES. */
    RawPeer handshake() throws IOException {
        long features = u64Request(Request.GET_FEATURES);
        u64Request(Request.GET_PROTOCOL_FEATURES);
        sendAcked(Request.SET_PROTOCOL_FEATURES.code(), u64(ProtocolFeature.SUPPORTED));
        sendAcked(Request.SET_FEATURES.code(), u64(features & (1L << 32 | 1L << 30)));
        return this;
    }

    static ByteBuffer u64(long v) {
        ByteBuffer b = Message.allocate(8);
        b.putLong(0, v);
        return b;
    }

    static ByteBuffer state(int index, int num) {
        ByteBuffer b = Message.allocate(8);
        b.putInt(0, index).putInt(4, num);
        return b;
    }

    void send(int code, int flags, ByteBuffer payload, NativeFd... fds) throws IOException {
        Message.write(socket, code, flags, payload, fds);
    }

    /** Sends with NEED_REPLY and returns the ack value. */
    long sendAcked(int code, ByteBuffer payload, NativeFd... fds) throws IOException {
        send(code, Message.VERSION | Message.FLAG_NEED_REPLY, payload, fds);
        Message reply = read();
        if (reply == null) {
            throw new IOException("closed");
        }
        return reply.payload().getLong(0);
    }

    long u64Request(Request request) throws IOException {
        send(request.code(), Message.VERSION, Message.allocate(0));
        return read().payload().getLong(0);
    }

    /** The next reply, or null if the back end closed the connection. */
    Message read() throws IOException {
        try {
            Message m = Message.read(socket);
            if (m != null) {
                m.closeFds();
            }
            return m;
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("end of stream")) {
                return null;
            }
            throw e;
        }
    }

    @Override
    public void close() {
        socket.close();
    }
}
