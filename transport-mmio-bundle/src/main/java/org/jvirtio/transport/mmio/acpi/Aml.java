package org.jvirtio.transport.mmio.acpi;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * An encoder of the few AML terms an SSDT of virtio-mmio devices needs (ACPI 6.5 chapter 20, "ACPI
 * Machine Language Specification"). Each method returns the complete encoding of one term, so terms
 * nest the way ASL does; package lengths are computed from the encoded content. Names are given as ASL
 * writes them: {@code "\\_SB.PCI0"}, {@code "^BAR0"}, {@code "_CRS"}; segments shorter than four
 * characters are padded with '_'.
 */
final class Aml {
    static final int ZERO_OP = 0x00;
    static final int ONE_OP = 0x01;
    static final int NAME_OP = 0x08;
    static final int BYTE_PREFIX = 0x0A;
    static final int WORD_PREFIX = 0x0B;
    static final int DWORD_PREFIX = 0x0C;
    static final int STRING_PREFIX = 0x0D;
    static final int QWORD_PREFIX = 0x0E;
    static final int SCOPE_OP = 0x10;
    static final int BUFFER_OP = 0x11;
    static final int METHOD_OP = 0x14;
    static final int DUAL_NAME_PREFIX = 0x2E;
    static final int MULTI_NAME_PREFIX = 0x2F;
    static final int EXT_OP_PREFIX = 0x5B;
    static final int OP_REGION_OP = 0x80;
    static final int FIELD_OP = 0x81;
    static final int DEVICE_OP = 0x82;
    static final int ROOT_CHAR = '\\';
    static final int PARENT_PREFIX = '^';
    static final int STORE_OP = 0x70;
    static final int ADD_OP = 0x72;
    static final int AND_OP = 0x7B;
    static final int CREATE_DWORD_FIELD_OP = 0x8A;
    static final int LOR_OP = 0x91;
    static final int LEQUAL_OP = 0x93;
    static final int IF_OP = 0xA0;
    static final int RETURN_OP = 0xA4;

    /** OperationRegion space: PCI configuration space of the device the region's scope names by _ADR. */
    static final int REGION_PCI_CONFIG = 0x02;
    /** Field flags: DWordAcc, NoLock, Preserve. */
    static final int FIELD_DWORD_ACC = 0x03;
    /** Method flags: serialized (it creates named objects), no arguments. */
    static final int METHOD_SERIALIZED = 0x08;
    static final int METHOD_NOT_SERIALIZED = 0x00;

    private Aml() {
    }

    // ------------------------------------------------------------------ package lengths

    /**
     * The PkgLength of a package whose content (after the PkgLength) is {@code content} bytes: the
     * encoded length counts its own bytes (ACPI 20.2.4).
     */
    static byte[] pkgLength(int content) {
        for (int bytes = 1; bytes <= 4; bytes++) {
            int total = content + bytes;
            if (bytes == 1 && total <= 0x3F) {
                return new byte[] {(byte) total};
            }
            if (bytes > 1 && total < (1 << (4 + 8 * (bytes - 1)))) {
                return encodeLength(total, bytes);
            }
        }
        throw new IllegalArgumentException("AML package too long: " + content);
    }

    /** The PkgLength a field list uses for a field's width in bits: the plain value, not self-inclusive. */
    static byte[] bitLength(int bits) {
        if (bits <= 0x3F) {
            return new byte[] {(byte) bits};
        }
        for (int bytes = 2; bytes <= 4; bytes++) {
            if (bits < (1 << (4 + 8 * (bytes - 1)))) {
                return encodeLength(bits, bytes);
            }
        }
        throw new IllegalArgumentException("field too wide: " + bits);
    }

    private static byte[] encodeLength(int value, int bytes) {
        byte[] b = new byte[bytes];
        b[0] = (byte) (((bytes - 1) << 6) | (value & 0x0F));
        for (int i = 1; i < bytes; i++) {
            b[i] = (byte) (value >>> (4 + 8 * (i - 1)));
        }
        return b;
    }

    /** {@code PkgLength} followed by {@code parts}. */
    static byte[] pkg(byte[]... parts) {
        byte[] content = concat(parts);
        return concat(pkgLength(content.length), content);
    }

    // ------------------------------------------------------------------ names and data

    /** A NameSeg: four characters of A-Z, 0-9 and '_', not starting with a digit; padded with '_'. */
    static byte[] nameSeg(String seg) {
        if (seg.isEmpty() || seg.length() > 4 || Character.isDigit(seg.charAt(0))) {
            throw new IllegalArgumentException("not an ACPI name segment: '" + seg + "'");
        }
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            char c = i < seg.length() ? seg.charAt(i) : '_';
            if (!(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_')) {
                throw new IllegalArgumentException("not an ACPI name segment: '" + seg + "'");
            }
            b[i] = (byte) c;
        }
        return b;
    }

    /** A NameString: root or parent prefixes, then one, two (DualNamePrefix) or more (MultiNamePrefix) segments. */
    static byte[] nameString(String path) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        if (path.startsWith("\\")) {
            out.write(ROOT_CHAR);
            i = 1;
        } else {
            while (i < path.length() && path.charAt(i) == '^') {
                out.write(PARENT_PREFIX);
                i++;
            }
        }
        String rest = path.substring(i);
        String[] segs = rest.isEmpty() ? new String[0] : rest.split("\\.");
        if (segs.length == 0) {
            out.write(0x00); // NullName
        } else if (segs.length == 2) {
            out.write(DUAL_NAME_PREFIX);
        } else if (segs.length > 2) {
            out.write(MULTI_NAME_PREFIX);
            out.write(segs.length);
        }
        for (String s : segs) {
            out.writeBytes(nameSeg(s));
        }
        return out.toByteArray();
    }

    /** The shortest encoding of an integer constant. */
    static byte[] integer(long value) {
        if (value == 0) {
            return new byte[] {ZERO_OP};
        }
        if (value == 1) {
            return new byte[] {ONE_OP};
        }
        if (value > 0 && value <= 0xFF) {
            return new byte[] {BYTE_PREFIX, (byte) value};
        }
        if (value > 0 && value <= 0xFFFF) {
            return new byte[] {WORD_PREFIX, (byte) value, (byte) (value >>> 8)};
        }
        if (value > 0 && value <= 0xFFFF_FFFFL) {
            return concat(new byte[] {DWORD_PREFIX}, le(value, 4));
        }
        return concat(new byte[] {QWORD_PREFIX}, le(value, 8));
    }

    /** A String constant (ASCII, NUL-terminated). */
    static byte[] string(String s) {
        byte[] chars = s.getBytes(StandardCharsets.US_ASCII);
        return concat(new byte[] {STRING_PREFIX}, chars, new byte[] {0});
    }

    /** {@code Buffer (n) { bytes }}. */
    static byte[] buffer(byte[] bytes) {
        return concat(new byte[] {BUFFER_OP}, pkg(integer(bytes.length), bytes));
    }

    // ------------------------------------------------------------------ named objects

    static byte[] scope(String name, byte[]... body) {
        return concat(new byte[] {SCOPE_OP}, pkg(nameString(name), concat(body)));
    }

    static byte[] device(String name, byte[]... body) {
        return concat(new byte[] {EXT_OP_PREFIX, (byte) DEVICE_OP}, pkg(nameString(name), concat(body)));
    }

    static byte[] name(String name, byte[] value) {
        return concat(new byte[] {NAME_OP}, nameString(name), value);
    }

    static byte[] method(String name, int flags, byte[]... body) {
        return concat(new byte[] {METHOD_OP}, pkg(nameString(name), new byte[] {(byte) flags}, concat(body)));
    }

    static byte[] operationRegion(String name, int space, long offset, long length) {
        return concat(new byte[] {EXT_OP_PREFIX, (byte) OP_REGION_OP}, nameString(name), new byte[] {(byte) space},
                integer(offset), integer(length));
    }

    /** {@code Field (region, flags) { ... }} with {@code units} made by {@link #offsetTo} and {@link #field}. */
    static byte[] fieldList(String region, int flags, byte[]... units) {
        return concat(new byte[] {EXT_OP_PREFIX, (byte) FIELD_OP}, pkg(nameString(region), new byte[] {(byte) flags},
                concat(units)));
    }

    /** A ReservedField that skips {@code bits}: what ASL's {@code Offset(n)} compiles to. */
    static byte[] skipBits(int bits) {
        return concat(new byte[] {0x00}, bitLength(bits));
    }

    /** A NamedField of {@code bits}. */
    static byte[] field(String seg, int bits) {
        return concat(nameSeg(seg), bitLength(bits));
    }

    static byte[] createDWordField(byte[] source, byte[] byteIndex, String name) {
        return concat(new byte[] {(byte) CREATE_DWORD_FIELD_OP}, source, byteIndex, nameString(name));
    }

    // ------------------------------------------------------------------ statements and expressions

    static byte[] returnOp(byte[] value) {
        return concat(new byte[] {(byte) RETURN_OP}, value);
    }

    static byte[] store(byte[] source, byte[] target) {
        return concat(new byte[] {STORE_OP}, source, target);
    }

    /** {@code And(a, b)} with no target. */
    static byte[] and(byte[] a, byte[] b) {
        return concat(new byte[] {AND_OP}, a, b, new byte[] {0x00});
    }

    /** {@code Add(a, b)} with no target. */
    static byte[] add(byte[] a, byte[] b) {
        return concat(new byte[] {ADD_OP}, a, b, new byte[] {0x00});
    }

    static byte[] lEqual(byte[] a, byte[] b) {
        return concat(new byte[] {(byte) LEQUAL_OP}, a, b);
    }

    static byte[] lOr(byte[] a, byte[] b) {
        return concat(new byte[] {(byte) LOR_OP}, a, b);
    }

    static byte[] ifOp(byte[] predicate, byte[]... body) {
        return concat(new byte[] {(byte) IF_OP}, pkg(predicate, concat(body)));
    }

    // ------------------------------------------------------------------ bytes

    static byte[] le(long value, int bytes) {
        byte[] b = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            b[i] = (byte) (value >>> (8 * i));
        }
        return b;
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
