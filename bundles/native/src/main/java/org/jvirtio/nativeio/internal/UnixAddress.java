package org.jvirtio.nativeio.internal;

import java.nio.charset.Charset;
import java.nio.file.Path;

/**
 * Encodes a filesystem path as a {@code struct sockaddr_un} (family, then {@code sun_path}).
 *
 * <pre>
 *  0      2                                           110
 *  +------+--------------------------------------------+
 *  | 1 LE | sun_path: path bytes, NUL, (rest unused)   |
 *  +------+--------------------------------------------+
 * </pre>
 *
 * {@code sun_path} holds 108 bytes including the terminating NUL. The kernel would accept 108 bytes
 * without the NUL, but then the name cannot be read back as a C string (ss, lsof, QEMU), so 107 is the
 * limit here, and a longer path is refused before any socket exists instead of being cut short.
 */
public final class UnixAddress {

    /** Usable bytes of {@code sun_path}, leaving room for its NUL. */
    public static final int MAX_PATH_BYTES = 107;
    private static final int FAMILY_BYTES = 2;

    private UnixAddress() {
    }

    /**
     * The address bytes for {@code path}; their length is the {@code addrlen} to pass along.
     *
     * @throws IllegalArgumentException if the path is empty, contains NUL, or is too long
     */
    public static byte[] of(Path path) {
        byte[] name = path.toString().getBytes(filesystemCharset());
        if (name.length == 0) {
            throw new IllegalArgumentException("Unix socket path is empty");
        }
        if (name.length > MAX_PATH_BYTES) {
            throw new IllegalArgumentException("Unix socket path is " + name.length + " bytes long, the limit is "
                    + MAX_PATH_BYTES + " (sun_path holds 108 bytes with its NUL): " + path);
        }
        byte[] address = new byte[FAMILY_BYTES + name.length + 1];
        address[0] = (byte) LibC.AF_UNIX; // sa_family_t, little-endian
        for (int i = 0; i < name.length; i++) {
            if (name[i] == 0) {
                throw new IllegalArgumentException("Unix socket path contains a NUL byte: " + path);
            }
            address[FAMILY_BYTES + i] = name[i];
        }
        return address;
    }

    /** The charset the JDK itself uses to turn file names into bytes. */
    private static Charset filesystemCharset() {
        String name = System.getProperty("sun.jnu.encoding");
        try {
            return name != null ? Charset.forName(name) : Charset.defaultCharset();
        } catch (IllegalArgumentException e) {
            return Charset.defaultCharset();
        }
    }
}
