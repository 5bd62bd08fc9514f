package org.jvirtio.transport.vhostuser.internal;

import java.nio.ByteBuffer;

import org.jvirtio.nativeio.NativeFd;

/**
 * What a handler says about its request: done without a body ({@link #OK}; REPLY_ACK may add a zero
 * u64), done with an explicit reply body, or refused ({@link #fail}; REPLY_ACK then answers non-zero).
 */
public final class Result {
    public static final Result OK = new Result(null, null, null);

    final ByteBuffer reply;
    final NativeFd[] fds;
    final String failure;

    private Result(ByteBuffer reply, NativeFd[] fds, String failure) {
        this.reply = reply;
        this.fds = fds;
        this.failure = failure;
    }

    /** A reply body; the descriptors pass to the dispatcher, which closes them once sent (the peer has copies). */
    public static Result reply(ByteBuffer payload, NativeFd... fds) {
        return new Result(payload, fds, null);
    }

    public static Result u64(long value) {
        ByteBuffer b = Message.allocate(8);
        b.putLong(0, value);
        return reply(b);
    }

    public static Result fail(String reason) {
        return new Result(null, null, reason);
    }

    public boolean failed() {
        return failure != null;
    }
}
