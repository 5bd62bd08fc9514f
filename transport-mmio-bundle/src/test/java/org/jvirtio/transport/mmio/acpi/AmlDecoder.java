package org.jvirtio.transport.mmio.acpi;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An independent reader of the AML subset an SSDT of virtio-mmio windows uses, written from the ACPI
 * specification's grammar (chapter 20): every package must end exactly where its PkgLength says and a
 * term list must end exactly at its package's end, or decoding fails. Unknown opcodes fail too, so the
 * encoder cannot emit something this reader silently skips.
 */
final class AmlDecoder {

    /** A decoded term: its kind ("Scope", "Device", "Name", "And", "Integer", "NameString", ...). */
    record Node(String kind, String name, long number, byte[] bytes, List<Node> children) {
        Node child(String kind, String name) {
            for (Node c : children) {
                if (c.kind.equals(kind) && (name == null || name.equals(c.name))) {
                    return c;
                }
            }
            throw new AssertionError("no " + kind + " " + name + " in " + this.kind + " " + this.name);
        }

        List<Node> all(String kind) {
            List<Node> out = new ArrayList<>();
            for (Node c : children) {
                if (c.kind.equals(kind)) {
                    out.add(c);
                }
            }
            return out;
        }

        @Override
        public String toString() {
            return kind + (name != null ? " " + name : "") + (kind.equals("Integer") ? " 0x" + Long.toHexString(number) : "")
                    + (children.isEmpty() ? "" : " " + children);
        }
    }

    private final byte[] b;
    private int pos;

    private AmlDecoder(byte[] b, int pos) {
        this.b = b;
        this.pos = pos;
    }

    /** The term list from {@code start} to the end of {@code aml}. */
    static List<Node> decode(byte[] aml, int start) {
        AmlDecoder d = new AmlDecoder(aml, start);
        return d.termList(aml.length);
    }

    /** Decodes a PkgLength at {@code at}: {value, bytes used}. */
    static int[] pkgLengthAt(byte[] b, int at) {
        int lead = b[at] & 0xFF;
        int follow = lead >>> 6;
        if (follow == 0) {
            return new int[] {lead & 0x3F, 1};
        }
        if ((lead & 0x30) != 0) {
            throw new AssertionError("PkgLength lead byte with bits 4-5 set: 0x" + Integer.toHexString(lead));
        }
        int value = lead & 0x0F;
        for (int i = 1; i <= follow; i++) {
            value |= (b[at + i] & 0xFF) << (4 + 8 * (i - 1));
        }
        return new int[] {value, follow + 1};
    }

    /** Reads a package length and returns the package's end offset. */
    private int pkgEnd() {
        int start = pos;
        int[] len = pkgLengthAt(b, pos);
        pos += len[1];
        int end = start + len[0];
        if (end > b.length || end < pos) {
            throw new AssertionError("PkgLength at " + start + " runs to " + end + " of " + b.length);
        }
        return end;
    }

    private List<Node> termList(int end) {
        List<Node> out = new ArrayList<>();
        while (pos < end) {
            out.add(term());
        }
        if (pos != end) {
            throw new AssertionError("term list overran its package: at " + pos + ", end " + end);
        }
        return out;
    }

    private int u8() {
        return b[pos++] & 0xFF;
    }

    private Node term() {
        int at = pos;
        int op = u8();
        switch (op) {
            case 0x10: {
                int end = pkgEnd();
                String name = nameString();
                return new Node("Scope", name, 0, null, termList(end));
            }
            case 0x08: {
                String name = nameString();
                return new Node("Name", name, 0, null, List.of(dataObject()));
            }
            case 0x14: {
                int end = pkgEnd();
                String name = nameString();
                int flags = u8();
                return new Node("Method", name, flags, null, termList(end));
            }
            case 0xA0: {
                int end = pkgEnd();
                Node predicate = expression();
                List<Node> kids = new ArrayList<>();
                kids.add(predicate);
                kids.addAll(termList(end));
                return new Node("If", null, 0, null, kids);
            }
            case 0xA4:
                return new Node("Return", null, 0, null, List.of(expression()));
            case 0x70: {
                Node source = expression();
                Node target = new Node("NameString", nameString(), 0, null, List.of());
                return new Node("Store", null, 0, null, List.of(source, target));
            }
            case 0x8A: {
                Node source = expression();
                Node index = expression();
                String name = nameString();
                return new Node("CreateDWordField", name, 0, null, List.of(source, index));
            }
            case 0x5B: {
                int ext = u8();
                if (ext == 0x82) {
                    int end = pkgEnd();
                    String name = nameString();
                    return new Node("Device", name, 0, null, termList(end));
                }
                if (ext == 0x80) {
                    String name = nameString();
                    int space = u8();
                    Node offset = expression();
                    Node length = expression();
                    return new Node("OperationRegion", name, space, null, List.of(offset, length));
                }
                if (ext == 0x81) {
                    int end = pkgEnd();
                    String region = nameString();
                    int flags = u8();
                    List<Node> fields = new ArrayList<>();
                    int bit = 0;
                    while (pos < end) {
                        if ((b[pos] & 0xFF) == 0x00) {
                            pos++;
                            int[] len = pkgLengthAt(b, pos);
                            pos += len[1];
                            bit += len[0];
                        } else {
                            String seg = new String(b, pos, 4, StandardCharsets.US_ASCII);
                            pos += 4;
                            int[] len = pkgLengthAt(b, pos);
                            pos += len[1];
                            // number: bit offset in the region; bytes: the width in bits
                            fields.add(new Node("Field", seg, bit, new byte[] {(byte) len[0]}, List.of()));
                            bit += len[0];
                        }
                    }
                    if (pos != end) {
                        throw new AssertionError("field list overran its package");
                    }
                    return new Node("FieldList", region, flags, null, fields);
                }
                throw new AssertionError("unknown extended opcode 0x5B 0x" + Integer.toHexString(ext) + " at " + at);
            }
            default:
                throw new AssertionError("unknown opcode 0x" + Integer.toHexString(op) + " at " + at);
        }
    }

    private Node dataObject() {
        return expression();
    }

    private Node expression() {
        int at = pos;
        int op = b[pos] & 0xFF;
        switch (op) {
            case 0x00: pos++; return integer(0);
            case 0x01: pos++; return integer(1);
            case 0xFF: pos++; return integer(-1);
            case 0x0A: pos++; return integer(le(1));
            case 0x0B: pos++; return integer(le(2));
            case 0x0C: pos++; return integer(le(4));
            case 0x0E: pos++; return integer(le(8));
            case 0x0D: {
                pos++;
                int start = pos;
                while (b[pos] != 0) {
                    pos++;
                }
                String s = new String(b, start, pos - start, StandardCharsets.US_ASCII);
                pos++;
                return new Node("String", s, 0, null, List.of());
            }
            case 0x11: {
                pos++;
                int end = pkgEnd();
                Node size = expression();
                byte[] data = java.util.Arrays.copyOfRange(b, pos, end);
                if (size.number != data.length) {
                    throw new AssertionError("buffer size " + size.number + " but " + data.length + " bytes");
                }
                pos = end;
                return new Node("Buffer", null, data.length, data, List.of());
            }
            case 0x7B:
            case 0x72: {
                pos++;
                Node a = expression();
                Node c = expression();
                if (u8() != 0x00) {
                    throw new AssertionError("expected NullName target at " + (pos - 1));
                }
                return new Node(op == 0x7B ? "And" : "Add", null, 0, null, List.of(a, c));
            }
            case 0x93:
            case 0x91: {
                pos++;
                Node a = expression();
                Node c = expression();
                return new Node(op == 0x93 ? "LEqual" : "LOr", null, 0, null, List.of(a, c));
            }
            default:
                if (op == '\\' || op == '^' || op == 0x2E || op == 0x2F || op == '_' || op >= 'A' && op <= 'Z') {
                    return new Node("NameString", nameString(), 0, null, List.of());
                }
                throw new AssertionError("unknown expression opcode 0x" + Integer.toHexString(op) + " at " + at);
        }
    }

    private static Node integer(long v) {
        return new Node("Integer", null, v, null, List.of());
    }

    private long le(int n) {
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (long) (b[pos + i] & 0xFF) << (8 * i);
        }
        pos += n;
        return v;
    }

    /** A NameString in ASL spelling: root/parent prefixes, segments joined by '.'. */
    private String nameString() {
        StringBuilder sb = new StringBuilder();
        if (b[pos] == '\\') {
            sb.append('\\');
            pos++;
        }
        while (b[pos] == '^') {
            sb.append('^');
            pos++;
        }
        int count;
        int lead = b[pos] & 0xFF;
        if (lead == 0x00) {
            pos++;
            return sb.toString();
        } else if (lead == 0x2E) {
            pos++;
            count = 2;
        } else if (lead == 0x2F) {
            pos++;
            count = u8();
        } else {
            count = 1;
        }
        for (int i = 0; i < count; i++) {
            String seg = new String(b, pos, 4, StandardCharsets.US_ASCII);
            if (!seg.matches("[A-Z_][A-Z0-9_]{3}")) {
                throw new AssertionError("bad name segment '" + seg + "' at " + pos);
            }
            sb.append(i > 0 ? "." : "").append(seg);
            pos += 4;
        }
        return sb.toString();
    }
}
